//! Signals for green threads: SIGINT and SIGTERM as a blocking call, `Signals::wait`, that
//! blocks only the green thread making it (gevent's `gevent.signal_handler` runs a callback
//! instead). The same self-pipe as step 6's `Signals` (`testbed::self_pipe`): the other end of
//! the socket pair is a green socket, read like any other.

use std::io::{self, ErrorKind, Read as _};

use step05_futures::reactor::Direction;
use testbed::self_pipe::Caught;

use super::net::Socket;

/// Some signals, caught: each one delivered writes a byte, for a green thread to read.
pub struct Signals {
    /// The end the handler's bytes arrive at, registered with the hub's reactor.
    read: Socket<mio::net::UnixStream>,
    /// The signals caught, until this is dropped.
    _caught: Caught,
}

impl Signals {
    /// Catches `signals` (`signal_hook::consts::SIGINT`, ...) from now on, instead of letting
    /// them end the process. Call it on a green thread (inside `run`).
    pub fn new(signals: &[i32]) -> io::Result<Signals> {
        let (read, caught) = testbed::self_pipe::catch(signals, true)?;
        Ok(Signals {
            read: Socket::new(mio::net::UnixStream::from_std(read))?,
            _caught: caught,
        })
    }

    /// Blocks this green thread until one of the signals comes (any that came before and was
    /// not waited for yet counts; several count as one).
    pub fn wait(&self) -> io::Result<()> {
        let mut bytes = [0u8; 32];
        match self
            .read
            .blocking(Direction::Read, None, |io| (&*io).read(&mut bytes))?
        {
            0 => Err(io::Error::new(
                ErrorKind::BrokenPipe,
                "the signal socket was closed",
            )),
            _ => Ok(()),
        }
    }
}
