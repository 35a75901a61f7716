//! Signals into the runtime: SIGINT and SIGTERM as a future any worker may poll. Step 6's
//! self-pipe, registered with this runtime's reactor.

use std::io::{self, ErrorKind, Read as _};

use testbed::self_pipe::Caught;

use super::net::Registered;
use super::reactor::Direction;

/// Some signals, caught: each one delivered writes a byte, for the reactor to report.
pub struct Signals {
    /// The end the handler's bytes arrive at.
    read: Registered<mio::net::UnixStream>,
    /// The signals caught, until this is dropped.
    _caught: Caught,
}

impl Signals {
    /// Catches `signals` (`signal_hook::consts::SIGINT`, ...) from now on, instead of letting
    /// them end the process. Call it inside the runtime.
    pub fn new(signals: &[i32]) -> io::Result<Signals> {
        let (read, caught) = testbed::self_pipe::catch(signals, true)?;
        Ok(Signals {
            read: Registered::new(mio::net::UnixStream::from_std(read))?,
            _caught: caught,
        })
    }

    /// Waits for the next of the signals (one that came before counts; several count as one).
    pub async fn recv(&mut self) -> io::Result<()> {
        let mut bytes = [0u8; 32];
        let n = std::future::poll_fn(|cx| {
            self.read
                .poll_io(cx, Direction::Read, |io| io.read(&mut bytes))
        })
        .await?;
        match n {
            0 => Err(io::Error::new(
                ErrorKind::BrokenPipe,
                "the signal socket was closed",
            )),
            _ => Ok(()),
        }
    }
}
