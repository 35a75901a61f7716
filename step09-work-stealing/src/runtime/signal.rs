//! Signals into the runtime: SIGINT and SIGTERM as a future any worker may poll. Step 6's
//! self-pipe, registered with this runtime's reactor.

use std::io::{self, ErrorKind, Read as _};
use std::os::unix::net::UnixStream;

use signal_hook::SigId;

use super::net::Registered;
use super::reactor::Direction;

/// Some signals, caught: each one delivered writes a byte, for the reactor to report.
pub struct Signals {
    /// The end the handler's bytes arrive at.
    read: Registered<mio::net::UnixStream>,
    /// The handlers, removed when this is dropped.
    handlers: Vec<SigId>,
}

impl Signals {
    /// Catches `signals` (`signal_hook::consts::SIGINT`, ...) from now on, instead of letting
    /// them end the process. Call it inside the runtime.
    pub fn new(signals: &[i32]) -> io::Result<Signals> {
        let (read, write) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        // A handler must never block: if the socket is full, the byte is dropped.
        write.set_nonblocking(true)?;
        let mut handlers = Vec::new();
        for &signal in signals {
            handlers.push(signal_hook::low_level::pipe::register(
                signal,
                write.try_clone()?,
            )?);
        }
        Ok(Signals {
            read: Registered::new(mio::net::UnixStream::from_std(read))?,
            handlers,
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

impl Drop for Signals {
    /// Stops catching (signal-hook's own handler stays, and ignores what comes after).
    fn drop(&mut self) {
        for handler in self.handlers.drain(..) {
            signal_hook::low_level::unregister(handler);
        }
    }
}
