//! Signals on the ring: SIGINT and SIGTERM as a future. The same self-pipe as step 6's
//! `Signals` (signal-hook's handler writes a byte into one end of a socket pair), but the
//! other end is read by an operation of the ring, like any socket: even a signal arrives as a
//! completion.
#![allow(unsafe_code)]

use std::io::{self, ErrorKind};
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;

use io_uring::{opcode, types};
use testbed::self_pipe::Caught;

use crate::uring::op::Op;

/// Some signals, caught: each one delivered writes a byte, for the ring to read.
pub struct Signals {
    /// The end the handler's bytes arrive at (blocking: the ring waits on it for us). Shared
    /// with a read in flight, so that a dropped `recv` never leaves the kernel reading a
    /// closed descriptor.
    read: Rc<OwnedFd>,
    /// The signals caught, until this is dropped.
    _caught: Caught,
}

impl Signals {
    /// Catches `signals` (`signal_hook::consts::SIGINT`, ...) from now on, instead of letting
    /// them end the process.
    pub fn new(signals: &[i32]) -> io::Result<Signals> {
        // Blocking: the ring waits on it for us.
        let (read, caught) = testbed::self_pipe::catch(signals, false)?;
        Ok(Signals {
            read: Rc::new(OwnedFd::from(read)),
            _caught: caught,
        })
    }

    /// Waits for the next of the signals (one that came before counts). Call it inside
    /// `block_on`.
    ///
    /// Not cancel safe: a `recv` dropped before it is ready leaves its read on the ring, and
    /// that read takes the next signal's byte, for nobody. Keep one `recv` pinned until it is
    /// done, as the echo server does.
    pub async fn recv(&mut self) -> io::Result<()> {
        let keep = (Rc::clone(&self.read), vec![0u8; 32]);
        // SAFETY: the entry points into the vector's heap memory, which `keep` owns and the
        // ring holds until the read completes; the descriptor is kept open there too.
        let started = unsafe {
            Op::start(keep, |(fd, buf)| {
                opcode::Read::new(types::Fd(fd.as_raw_fd()), buf.as_mut_ptr(), 32).build()
            })
        };
        let (n, _) = started.map_err(|(e, _)| e)?.await;
        match n? {
            0 => Err(io::Error::new(
                ErrorKind::BrokenPipe,
                "the signal socket was closed",
            )),
            _ => Ok(()),
        }
    }
}
