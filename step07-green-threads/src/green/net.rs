//! Green sockets: `TcpStream` and `TcpListener` with the API of `std::net`'s, blocking only the
//! green thread that calls them.
//!
//! This is what gevent's `monkey.patch_all()` puts in place of Python's `socket` module. Rust
//! cannot do the patching (a call to `std::net::TcpStream::read` is compiled to that function,
//! and nothing replaces it at run time), so code opts in by importing these types instead of
//! std's. Everything else stays: `connect_timeout`, `set_read_timeout`, `Read`, `Write`,
//! `write_all`, `incoming`. Underneath, every call is a non-blocking call that, on
//! `WouldBlock`, parks the green thread with the reactor and switches to the hub
//! ([`Socket::blocking`]).

use std::cell::{Cell, RefCell};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use mio::Token;
use mio::event::Source;
use step05_futures::reactor::{Direction, Reactor};

use crate::hub::{Timer, park_until};

/// A non-blocking socket registered with the current hub's reactor; deregistered when dropped.
pub(crate) struct Socket<S: Source> {
    /// The non-blocking socket.
    io: S,
    /// Its token with the reactor.
    token: Token,
    /// The reactor.
    reactor: Rc<RefCell<Reactor>>,
    /// Whether a green thread is in a call on each direction (read, write): the reactor keeps
    /// one waker per direction, so a second waiter is refused (as gevent refuses it).
    busy: [Cell<bool>; 2],
}

/// Clears a socket direction's `busy` flag when the call ends, also by unwinding.
struct NotBusy<'a>(&'a Cell<bool>);

impl Drop for NotBusy<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

impl<S: Source> Socket<S> {
    /// Registers `io` with the current reactor.
    pub(crate) fn new(mut io: S) -> io::Result<Socket<S>> {
        let reactor = Reactor::try_current().ok_or_else(|| {
            io::Error::other("green sockets only work inside step07_green_threads::run")
        })?;
        let token = reactor.borrow_mut().register(&mut io)?;
        Ok(Socket {
            io,
            token,
            reactor,
            busy: Default::default(),
        })
    }

    // ANCHOR: blocking
    /// Runs the non-blocking `op` until it does not say `WouldBlock`, parking this green thread
    /// in between; after `timeout` (if any), fails with `TimedOut`. To the caller, this is a
    /// blocking call. Where it would have to wait but may not (a [`CannotPark`](crate::hub::CannotPark): a destructor
    /// during an unwind, or no green thread running), it fails with that as the error's inner
    /// error: a panic there could abort the process.
    pub(crate) fn blocking<T>(
        &self,
        direction: Direction,
        timeout: Option<Duration>,
        mut op: impl FnMut(&S) -> io::Result<T>,
    ) -> io::Result<T> {
        let busy = &self.busy[direction as usize];
        if busy.replace(true) {
            let doing = match direction {
                Direction::Read => "read from (or accept on)",
                Direction::Write => "write to",
            };
            return Err(io::Error::new(
                ErrorKind::ResourceBusy,
                format!("another green thread is already waiting to {doing} this socket"),
            ));
        }
        let _not_busy = NotBusy(busy);
        // The deadline is a timer of the same reactor: whichever comes first, readiness or
        // the timer, wakes this green thread. The timer is only made if the call has to wait.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut timer: Option<Timer> = None;
        let result = park_until(|cx| {
            loop {
                // Step 5's protocol: ask the reactor; if ready, try; if the try says
                // WouldBlock, clear the readiness (unless a new report came in) and ask again.
                let ready = self
                    .reactor
                    .borrow_mut()
                    .poll_ready(self.token, direction, cx);
                let tick = match ready {
                    Poll::Ready(Ok(tick)) => tick,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    // Not ready: our waker is with the reactor. Has the deadline passed?
                    Poll::Pending => {
                        let Some(deadline) = deadline else {
                            return Poll::Pending; // park: switch to the hub
                        };
                        let timer = timer.get_or_insert_with(|| Timer::at(deadline));
                        return match timer.poll_fired(cx) {
                            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                                ErrorKind::TimedOut,
                                "timed out waiting for the socket",
                            ))),
                            Poll::Pending => Poll::Pending, // park: switch to the hub
                        };
                    }
                };
                match op(&self.io) {
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        self.reactor
                            .borrow_mut()
                            .clear_ready(self.token, direction, tick);
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    result => return Poll::Ready(result),
                }
            }
        });
        // Timed out, refused or not, no waker of ours stays behind at the reactor.
        self.reactor.borrow_mut().drop_waker(self.token, direction);
        result.unwrap_or_else(|refused| Err(io::Error::other(refused)))
    }
    // ANCHOR_END: blocking
}

impl<S: Source> Drop for Socket<S> {
    fn drop(&mut self) {
        self.reactor
            .borrow_mut()
            .deregister(&mut self.io, self.token);
    }
}

/// std refuses a zero timeout (it would mean "do not wait at all" to some and "wait forever"
/// to others); so do we, with the same error kind.
fn check_timeout(timeout: Option<Duration>) -> io::Result<()> {
    match timeout {
        Some(t) if t.is_zero() => Err(io::Error::new(
            ErrorKind::InvalidInput,
            "cannot set a 0 duration timeout",
        )),
        _ => Ok(()),
    }
}

/// A TCP connection whose calls block only the green thread that makes them.
pub struct TcpStream {
    socket: Socket<mio::net::TcpStream>,
    /// The longest a read may wait; `None`: forever.
    read_timeout: Cell<Option<Duration>>,
    /// The longest a write may wait; `None`: forever.
    write_timeout: Cell<Option<Duration>>,
}

impl TcpStream {
    // ANCHOR: connect
    /// Connects to `addr`, waiting at most `timeout` for the handshake (as
    /// `std::net::TcpStream::connect_timeout`).
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        check_timeout(Some(timeout))?;
        TcpStream::connect_within(*addr, Some(timeout))
    }

    /// Starts a non-blocking connect, then parks until the socket is writable: the handshake
    /// is over. SO_ERROR says whether it worked; getpeername whether it really is over (a
    /// spurious report says "not connected").
    fn connect_within(addr: SocketAddr, timeout: Option<Duration>) -> io::Result<TcpStream> {
        let socket = Socket::new(mio::net::TcpStream::connect(addr)?)?;
        socket.blocking(Direction::Write, timeout, |io| match io.take_error()? {
            Some(error) => Err(error),
            None => match io.peer_addr() {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == ErrorKind::NotConnected => Err(ErrorKind::WouldBlock.into()),
                Err(e) => Err(e),
            },
        })?;
        Ok(TcpStream {
            socket,
            read_timeout: Cell::new(None),
            write_timeout: Cell::new(None),
        })
    }
    // ANCHOR_END: connect

    /// Connects to the first of `addrs` that accepts, with no timeout (as
    /// `std::net::TcpStream::connect`). Resolving a host name blocks the whole OS thread, hub
    /// and all: gevent hands name lookups to a thread pool for that reason.
    pub fn connect(addrs: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = io::Error::new(ErrorKind::InvalidInput, "no addresses to connect to");
        for addr in addrs.to_socket_addrs()? {
            match TcpStream::connect_within(addr, None) {
                Ok(stream) => return Ok(stream),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Sets how long a read may wait (`None`: forever). A read that runs out fails with
    /// `TimedOut`. Zero is refused, as std refuses it.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        check_timeout(timeout)?;
        self.read_timeout.set(timeout);
        Ok(())
    }

    /// Sets how long a write may wait (`None`: forever).
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        check_timeout(timeout)?;
        self.write_timeout.set(timeout);
        Ok(())
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.io.peer_addr()
    }

    /// Our end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.io.local_addr()
    }

    /// Shuts down reading, writing or both (as std's).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.socket.io.shutdown(how)
    }
}

// ANCHOR: read_write
impl Read for &TcpStream {
    /// Reads what has arrived (0 at end-of-file), parking this green thread until something has.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let timeout = self.read_timeout.get();
        self.socket
            .blocking(Direction::Read, timeout, |mut io| io.read(buf))
    }
}

impl Write for &TcpStream {
    /// Writes what the kernel takes (at least a byte), parking until it takes some.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let timeout = self.write_timeout.get();
        self.socket
            .blocking(Direction::Write, timeout, |mut io| io.write(buf))
    }

    /// Nothing to flush: every write goes straight to the kernel.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
// ANCHOR_END: read_write

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A listening socket whose `accept` blocks only the green thread that calls it.
pub struct TcpListener {
    socket: Socket<mio::net::TcpListener>,
}

impl TcpListener {
    /// Listens on `addr`, with a deep backlog (8192).
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        let io = mio::net::TcpListener::from_std(testbed::server::listen(addr, 8192)?);
        Ok(TcpListener {
            socket: Socket::new(io)?,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.io.local_addr()
    }

    /// Stops listening at once: new clients are refused, and an `accept` parked on it (in
    /// any green thread) returns with an error. This is `shutdown(2)` on the listening socket,
    /// which Linux allows; it needs no descriptor, unlike waking the loop with a connection.
    pub fn shutdown(&self) -> io::Result<()> {
        socket2::SockRef::from(&self.socket.io).shutdown(Shutdown::Both)
    }

    /// Accepts a connection, parking this green thread until one comes.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (io, peer) = self
            .socket
            .blocking(Direction::Read, None, |io| io.accept())?;
        let stream = TcpStream {
            socket: Socket::new(io)?,
            read_timeout: Cell::new(None),
            write_timeout: Cell::new(None),
        };
        Ok((stream, peer))
    }

    /// The connections as they come, forever (as std's `incoming`).
    pub fn incoming(&self) -> impl Iterator<Item = io::Result<TcpStream>> + '_ {
        std::iter::repeat_with(|| self.accept().map(|(stream, _peer)| stream))
    }
}
