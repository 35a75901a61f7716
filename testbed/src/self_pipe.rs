//! Signals into a socket: the *self-pipe* that every step's `Signals` is built on.
//!
//! A signal handler runs in the middle of whatever the thread was doing, so it may do almost
//! nothing: no allocation, no lock, no waker. What it may do is `write` a byte. So the handler
//! (signal-hook's, `low_level::pipe`) writes a byte into one end of a socket pair, and the
//! program reads the other end like any socket: each runtime waits on it its own way (a
//! reactor's readiness in steps 6, 7 and 9, a read on the ring in step 8).

use std::io;
use std::os::unix::net::UnixStream;

use signal_hook::SigId;

// ANCHOR: catch
/// The signals caught, until this is dropped (signal-hook's own handler then stays, and
/// ignores what comes: make one for the life of the program).
#[derive(Debug)]
pub struct Caught {
    handlers: Vec<SigId>,
}

/// Catches `signals` (`signal_hook::consts::SIGINT`, ...) from now on, instead of letting
/// them end the process: each one delivered writes a byte into a socket, whose other end is
/// returned, non-blocking if `nonblocking`.
pub fn catch(signals: &[i32], nonblocking: bool) -> io::Result<(UnixStream, Caught)> {
    let (read, write) = UnixStream::pair()?;
    read.set_nonblocking(nonblocking)?;
    // A handler must never block: if the socket is full, the byte is dropped (the reader has
    // plenty of bytes to wake for already).
    write.set_nonblocking(true)?;
    let mut handlers = Vec::new();
    for &signal in signals {
        handlers.push(signal_hook::low_level::pipe::register(
            signal,
            write.try_clone()?,
        )?);
    }
    Ok((read, Caught { handlers }))
}

impl Drop for Caught {
    fn drop(&mut self) {
        for handler in self.handlers.drain(..) {
            signal_hook::low_level::unregister(handler);
        }
    }
}
// ANCHOR_END: catch
