//! Leaf futures for TCP: the futures at the bottom of every chain, the ones that actually talk to
//! the reactor.
//!
//! Every operation follows the same pattern (`poll_io`): ask the reactor whether the direction
//! is ready; if so, try the non-blocking call; if the call still says `WouldBlock`, clear the
//! readiness (with its tick, see [`crate::reactor`]) and ask again, which leaves our waker
//! with the reactor. A spurious wake, or readiness used up by an earlier call, costs one
//! failed attempt and nothing else.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, ErrorKind, Read as _, Write as _};
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use mio::Token;
use mio::event::Source;

use crate::reactor::{Direction, Reactor};
use crate::trace::trace;

// ANCHOR: poll_io
/// A socket registered with the current reactor; deregistered when dropped.
struct Registered<S: Source> {
    /// The non-blocking socket.
    io: S,
    /// Its token with the reactor.
    token: Token,
    /// The reactor it is registered with.
    reactor: Rc<RefCell<Reactor>>,
}

impl<S: Source> Drop for Registered<S> {
    fn drop(&mut self) {
        self.reactor
            .borrow_mut()
            .deregister(&mut self.io, self.token);
    }
}

impl<S: Source> Registered<S> {
    /// Registers `io` with the current reactor.
    fn new(mut io: S) -> io::Result<Registered<S>> {
        let reactor = Reactor::current();
        let token = reactor.borrow_mut().register(&mut io)?;
        Ok(Registered { io, token, reactor })
    }

    /// Runs the non-blocking `op` when `direction` is ready, until it does not say
    /// `WouldBlock`; until then, the task waits with its waker left at the reactor.
    fn poll_io<T>(
        &mut self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&mut S) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        loop {
            let tick = ready!(
                self.reactor
                    .borrow_mut()
                    .poll_ready(self.token, direction, cx)
            )?;
            match op(&mut self.io) {
                // Ready was a hint, and it is used up: clear it (unless a new report came in
                // meanwhile) and wait for the next one.
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.reactor
                        .borrow_mut()
                        .clear_ready(self.token, direction, tick);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }
    // ANCHOR_END: poll_io
}

/// A TCP connection of the current runtime.
pub struct TcpStream {
    inner: Registered<mio::net::TcpStream>,
}

impl TcpStream {
    /// A future that connects to `addr`. Like every future, it does nothing until polled: the
    /// socket is created, and the connect started, at the first poll.
    pub fn connect(addr: SocketAddr) -> Connect {
        Connect { addr, stream: None }
    }

    /// The stream's token with the reactor (for traces).
    pub fn token(&self) -> Token {
        self.inner.token
    }

    /// Reads what has arrived (0 at end-of-file), waiting until something has.
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_io(cx, Direction::Read, |io| io.read(buf))
    }

    /// Writes what the kernel takes now (at least one byte), waiting until it takes some.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_io(cx, Direction::Write, |io| io.write(buf))
    }

    /// A future that reads into `buf`.
    ///
    /// Cancel safe: a `Read` takes bytes from the kernel only in the poll that returns them,
    /// so one dropped while it waits has read nothing (`cancellation/tests/lines.rs` races it
    /// against a tick, through `LineReader`).
    pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a> {
        Read { stream: self, buf }
    }

    /// A future that writes all of `buf`.
    ///
    /// Not cancel safe: dropped half-way, it has sent part of `buf`, and how much was its own
    /// count, gone with it (`cancellation/tests/write_all.rs`). Write with `poll_write` and
    /// count outside the future to know.
    pub fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a> {
        WriteAll {
            stream: self,
            buf,
            written: 0,
        }
    }

    /// Closes the writing side (the peer reads end-of-file), keeping the reading side open.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.inner.io.shutdown(std::net::Shutdown::Write)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }
}

// ANCHOR: connect
/// The future of [`TcpStream::connect`].
pub struct Connect {
    /// Where to connect.
    addr: SocketAddr,
    /// The socket, once the connect has started (first poll).
    stream: Option<TcpStream>,
}

impl Future for Connect {
    type Output = io::Result<TcpStream>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<TcpStream>> {
        if self.stream.is_none() {
            // First poll: start the non-blocking connect and register the socket.
            let io = mio::net::TcpStream::connect(self.addr)?;
            trace!("connect to {}: started", self.addr);
            let stream = TcpStream {
                inner: Registered::new(io)?,
            };
            self.stream = Some(stream);
        }
        let stream = self.stream.as_mut().expect("started above");
        // Writable means the handshake is over; SO_ERROR says whether it worked, and
        // getpeername whether it really is over (a spurious report says "not connected").
        let connected =
            ready!(
                stream
                    .inner
                    .poll_io(cx, Direction::Write, |io| match io.take_error()? {
                        Some(error) => Err(error),
                        None => match io.peer_addr() {
                            Ok(_) => Ok(()),
                            Err(e) if e.kind() == ErrorKind::NotConnected =>
                                Err(ErrorKind::WouldBlock.into()),
                            Err(e) => Err(e),
                        },
                    })
            );
        Poll::Ready(connected.map(|()| self.stream.take().expect("connected stream")))
    }
}
// ANCHOR_END: connect

// ANCHOR: read
/// The future of [`TcpStream::read`].
pub struct Read<'a> {
    stream: &'a mut TcpStream,
    buf: &'a mut [u8],
}

impl Future for Read<'_> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.stream.poll_read(cx, this.buf)
    }
}

impl Drop for Read<'_> {
    /// A read that is given up (its future dropped: a timeout, a `select` that chose the other
    /// future) leaves no waker behind at the reactor.
    fn drop(&mut self) {
        let inner = &self.stream.inner;
        inner
            .reactor
            .borrow_mut()
            .drop_waker(inner.token, Direction::Read);
    }
}
// ANCHOR_END: read

/// The future of [`TcpStream::write_all`].
pub struct WriteAll<'a> {
    stream: &'a mut TcpStream,
    buf: &'a [u8],
    written: usize,
}

impl Future for WriteAll<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.written < this.buf.len() {
            let n = ready!(this.stream.poll_write(cx, &this.buf[this.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(ErrorKind::WriteZero.into()));
            }
            this.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for WriteAll<'_> {
    /// Like a dropped read: leave no waker behind.
    fn drop(&mut self) {
        let inner = &self.stream.inner;
        inner
            .reactor
            .borrow_mut()
            .drop_waker(inner.token, Direction::Write);
    }
}

/// A listening TCP socket of the current runtime.
pub struct TcpListener {
    inner: Registered<mio::net::TcpListener>,
}

impl TcpListener {
    /// Listens on `addr` (with a deep backlog). Must be called inside `block_on`.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        let io = mio::net::TcpListener::from_std(testbed::server::listen(addr, 8192)?);
        Ok(TcpListener {
            inner: Registered::new(io)?,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.local_addr()
    }

    /// Accepts a connection, waiting until one comes.
    pub fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (io, peer) = ready!(self.inner.poll_io(cx, Direction::Read, |io| io.accept()))?;
        Poll::Ready(Registered::new(io).map(|inner| (TcpStream { inner }, peer)))
    }

    /// A future that accepts one connection.
    pub fn accept(&mut self) -> Accept<'_> {
        Accept { listener: self }
    }
}

/// The future of [`TcpListener::accept`].
pub struct Accept<'a> {
    listener: &'a mut TcpListener,
}

impl Drop for Accept<'_> {
    /// Like a dropped read: leave no waker behind.
    fn drop(&mut self) {
        let inner = &self.listener.inner;
        inner
            .reactor
            .borrow_mut()
            .drop_waker(inner.token, Direction::Read);
    }
}

impl Future for Accept<'_> {
    type Output = io::Result<(TcpStream, SocketAddr)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().listener.poll_accept(cx)
    }
}
