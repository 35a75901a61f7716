//! Signals into the loop: SIGINT (Ctrl-C) and SIGTERM as something a task can `.await`.
//!
//! A signal handler runs in the middle of whatever the thread was doing, so it may do almost
//! nothing: no allocation, no lock, no waker. What it may do is `write` a byte. So the
//! handler (signal-hook's, set up by `testbed::self_pipe`) writes a byte into one end of a
//! socket pair, and the other end is registered with the reactor like any socket: the signal
//! arrives as readiness, in the loop, and the task waiting for it is woken like any reader.
//! (The same "self-pipe" is how asyncio's `loop.add_signal_handler` and tokio's `signal` work.)

use std::cell::RefCell;
use std::io::{self, ErrorKind, Read as _};
use std::rc::Rc;
use std::task::{Poll, ready};

use mio::Token;
use step05_futures::reactor::{Direction, Reactor};
use testbed::self_pipe::Caught;

// ANCHOR: signals
/// Some signals, caught: each one delivered writes a byte, for the loop to read. (A `recv`
/// takes up to 32 bytes waiting: signals that came before it count as one.)
pub struct Signals {
    /// The end the handler's bytes arrive at, registered with the reactor.
    read: mio::net::UnixStream,
    /// Its token with the reactor.
    token: Token,
    /// The reactor of the runtime it was made in.
    reactor: Rc<RefCell<Reactor>>,
    /// The signals caught, until this is dropped.
    _caught: Caught,
}

impl Signals {
    /// Catches `signals` (`signal_hook::consts::SIGINT`, ...) from now on, instead of letting
    /// them end the process. Call it inside `block_on`.
    pub fn new(signals: &[i32]) -> io::Result<Signals> {
        let (read, caught) = testbed::self_pipe::catch(signals, true)?;
        let mut read = mio::net::UnixStream::from_std(read);
        let reactor = Reactor::current();
        let token = reactor.borrow_mut().register(&mut read)?;
        Ok(Signals {
            read,
            token,
            reactor,
            _caught: caught,
        })
    }

    /// Waits for the next of the signals (any that came before and was not waited for yet
    /// counts). Cancel safe: a signal is only taken when this returns.
    pub async fn recv(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| {
            loop {
                let tick = ready!(self.reactor.borrow_mut().poll_ready(
                    self.token,
                    Direction::Read,
                    cx
                ))?;
                let mut bytes = [0u8; 32];
                match self.read.read(&mut bytes) {
                    Ok(0) => {
                        let closed = "the signal socket was closed";
                        return Poll::Ready(Err(io::Error::new(ErrorKind::BrokenPipe, closed)));
                    }
                    Ok(_) => return Poll::Ready(Ok(())),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        self.reactor
                            .borrow_mut()
                            .clear_ready(self.token, Direction::Read, tick);
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
        })
        .await
    }
}

impl Drop for Signals {
    /// Leaves the reactor (the handlers go with `_caught`).
    fn drop(&mut self) {
        self.reactor
            .borrow_mut()
            .deregister(&mut self.read, self.token);
    }
}
// ANCHOR_END: signals

/// SIGINT or SIGTERM, caught from now on: a future that is ready when either comes (or the
/// signal socket fails, which stops a server too). Call it inside `block_on`.
pub fn interrupted() -> io::Result<impl std::future::Future<Output = ()>> {
    let mut signals = Signals::new(&[signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])?;
    Ok(async move {
        let _ = signals.recv().await;
    })
}
