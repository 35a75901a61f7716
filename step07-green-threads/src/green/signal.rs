//! Signals for green threads: SIGINT and SIGTERM as a blocking call, `Signals::wait`, that
//! blocks only the green thread making it (gevent's `gevent.signal_handler` runs a callback
//! instead). The same self-pipe as step 6's `Signals`: signal-hook's handler writes a byte into
//! one end of a socket pair, and the other end is a green socket, read like any other.

use std::io::{self, ErrorKind, Read as _};
use std::os::unix::net::UnixStream;

use signal_hook::SigId;
use step05_futures::reactor::Direction;

use super::net::Socket;

/// Some signals, caught: each one delivered writes a byte, for a green thread to read.
pub struct Signals {
    /// The end the handler's bytes arrive at, registered with the hub's reactor.
    read: Socket<mio::net::UnixStream>,
    /// The handlers, removed when this is dropped.
    handlers: Vec<SigId>,
}

impl Signals {
    /// Catches `signals` (`signal_hook::consts::SIGINT`, ...) from now on, instead of letting
    /// them end the process. Call it on a green thread (inside `run`).
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
            read: Socket::new(mio::net::UnixStream::from_std(read))?,
            handlers,
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

impl Drop for Signals {
    /// Stops catching (signal-hook's own handler stays, and ignores what comes after).
    fn drop(&mut self) {
        for handler in self.handlers.drain(..) {
            signal_hook::low_level::unregister(handler);
        }
    }
}
