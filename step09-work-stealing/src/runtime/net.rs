//! TCP for the workers: step 5's leaf futures, with the readiness behind a lock and a budget
//! check before each operation. Everything here is `Send`: a connection's future may be
//! polled by one worker, then by another after a steal.

use std::future::Future;
use std::io::{self, ErrorKind, Read as _, Write as _};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use mio::Token;
use mio::event::Source;

use super::budget;
use super::reactor::{Direction, IoState, stopped};
use super::worker::{Shared, current};

// ANCHOR: poll_io
/// A socket registered with the current runtime's reactor; deregistered when dropped.
pub(super) struct Registered<S: Source> {
    /// The non-blocking socket.
    io: S,
    /// Its token.
    token: Token,
    /// Its readiness, shared with the reactor.
    state: Arc<IoState>,
    /// The runtime.
    shared: Arc<Shared>,
}

impl<S: Source> Drop for Registered<S> {
    fn drop(&mut self) {
        self.shared.reactor.deregister(&mut self.io, self.token);
    }
}

impl<S: Source> Registered<S> {
    /// Registers `io` with the current runtime's reactor.
    pub(super) fn new(mut io: S) -> io::Result<Registered<S>> {
        let shared = current().ok_or_else(|| {
            io::Error::other("no runtime on this thread: use sockets inside step 9's runtime")
        })?;
        let (token, state) = shared.reactor.register(&mut io)?;
        Ok(Registered {
            io,
            token,
            state,
            shared,
        })
    }

    /// Step 5's `poll_io`, with the budget: an operation that would run although the task
    /// has used up its budget waits one turn of the queue instead.
    pub(super) fn poll_io<T>(
        &mut self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&mut S) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        ready!(budget::poll_proceed(cx));
        loop {
            if !self.shared.reactor.is_running() {
                return Poll::Ready(Err(stopped()));
            }
            let tick = ready!(self.state.poll_ready(direction, cx));
            match op(&mut self.io) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.state.clear_ready(direction, tick);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                result => {
                    budget::spend();
                    return Poll::Ready(result);
                }
            }
        }
    }
}
// ANCHOR_END: poll_io

/// A TCP connection.
pub struct TcpStream {
    inner: Registered<mio::net::TcpStream>,
}

impl TcpStream {
    /// A future that connects to `addr` (started at its first poll).
    pub fn connect(addr: SocketAddr) -> Connect {
        Connect { addr, stream: None }
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
    pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a> {
        Read { stream: self, buf }
    }

    /// A future that writes all of `buf`.
    pub fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a> {
        WriteAll {
            stream: self,
            buf,
            written: 0,
        }
    }

    /// Closes the writing side (the peer reads end-of-file).
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.inner.io.shutdown(std::net::Shutdown::Write)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }
}

/// The future of [`TcpStream::connect`].
pub struct Connect {
    /// Where to connect.
    addr: SocketAddr,
    /// The socket, once the connect has started.
    stream: Option<TcpStream>,
}

impl Future for Connect {
    type Output = io::Result<TcpStream>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<TcpStream>> {
        if self.stream.is_none() {
            let io = mio::net::TcpStream::connect(self.addr)?;
            self.stream = Some(TcpStream {
                inner: Registered::new(io)?,
            });
        }
        let stream = self.stream.as_mut().expect("started above");
        // As in step 5: writable, then SO_ERROR and getpeername say whether it worked.
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
    /// A read given up leaves no waker behind.
    fn drop(&mut self) {
        self.stream.inner.state.drop_waker(Direction::Read);
    }
}

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
        self.stream.inner.state.drop_waker(Direction::Write);
    }
}

/// A listening TCP socket.
pub struct TcpListener {
    inner: Registered<mio::net::TcpListener>,
}

impl TcpListener {
    /// Listens on `addr` (with a deep backlog). Must be called inside the runtime.
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

impl Future for Accept<'_> {
    type Output = io::Result<(TcpStream, SocketAddr)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().listener.poll_accept(cx)
    }
}

impl Drop for Accept<'_> {
    fn drop(&mut self) {
        self.listener.inner.state.drop_waker(Direction::Read);
    }
}

/// The reactor of the current runtime (for tests: registrations and timers must come back
/// to zero).
pub fn current_reactor_counts() -> Option<(usize, usize)> {
    current().map(|shared: Arc<Shared>| {
        (
            shared.reactor.live_registrations(),
            shared.reactor.live_timers(),
        )
    })
}
