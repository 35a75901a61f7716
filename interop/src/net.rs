//! A `TcpStream` that works under any executor: step 5's reactor when our runtime is running on
//! this thread, the [background reactor](crate::background) otherwise.
//!
//! The choice is made once, at connect: if this thread has a current step 5 reactor (it is
//! inside our `block_on`, or step 7's hub), the socket registers there and our executor turns
//! it, at no extra cost. Otherwise nobody of ours would turn a reactor on this thread, so the
//! socket registers with the background reactor, whose own thread does.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use step05_futures::reactor::Reactor;
use testbed::response::ResponseSummary;
use testbed::{FetchError, ResponseCheck, Stage, Target};

use crate::background;

/// Which reactor a stream's readiness comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// Step 5's reactor, turned by our executor on this thread.
    Ours,
    /// The background reactor, turned by its own thread.
    Background,
}

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Driver::Ours => "step 5's reactor (turned by our executor)",
            Driver::Background => "the background reactor (turned by its own thread)",
        })
    }
}

// ANCHOR: stream
/// A TCP connection for any executor. It is not `Send` (the `Ours` side holds step 5's
/// `Rc`s); to move a connection between threads, as `tokio::spawn` on a multi-threaded runtime
/// does, use [`background::TcpStream`] directly.
pub enum TcpStream {
    /// Registered with step 5's reactor.
    Ours(step05_futures::net::TcpStream),
    /// Registered with the background reactor.
    Background(background::TcpStream),
}

impl TcpStream {
    /// Connects to `addr`, with step 5's reactor if this thread is running one, else with the
    /// background reactor.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        if Reactor::try_current().is_some() {
            Ok(TcpStream::Ours(
                step05_futures::net::TcpStream::connect(addr).await?,
            ))
        } else {
            Ok(TcpStream::Background(
                background::TcpStream::connect(addr).await?,
            ))
        }
    }
    // ANCHOR_END: stream

    /// Which reactor this stream was registered with.
    pub fn driver(&self) -> Driver {
        match self {
            TcpStream::Ours(_) => Driver::Ours,
            TcpStream::Background(_) => Driver::Background,
        }
    }

    /// Reads what has arrived into `buf` (0 at end-of-file), waiting until something has.
    ///
    /// This is the `read` that `stream.read(..)` calls on a `TcpStream` (an inherent method
    /// comes before a trait's), and it differs from `futures::io`'s `AsyncReadExt::read` in
    /// one way: dropped unfinished (a `select` that chose a timer, a timeout), it takes its
    /// waker back from step 5's reactor, as step 5's own `Read` does. `AsyncRead` has no hook
    /// for that, so `AsyncReadExt::read` leaves the waker there until the next read or until
    /// the stream is dropped: harmless but for one spurious wake, and an untidy count.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            TcpStream::Ours(stream) => stream.read(buf).await,
            TcpStream::Background(stream) => futures::io::AsyncReadExt::read(stream, buf).await,
        }
    }

    /// Writes all of `buf`, waiting while the kernel takes none; like [`TcpStream::read`], it
    /// takes its waker back from step 5's reactor when dropped unfinished.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            TcpStream::Ours(stream) => stream.write_all(buf).await,
            TcpStream::Background(stream) => {
                futures::io::AsyncWriteExt::write_all(stream, buf).await
            }
        }
    }

    /// Closes the writing side (the peer reads end-of-file), keeping the reading side open.
    pub fn shutdown_write(&self) -> io::Result<()> {
        match self {
            TcpStream::Ours(stream) => stream.shutdown_write(),
            TcpStream::Background(stream) => stream.shutdown_write(),
        }
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self {
            TcpStream::Ours(stream) => stream.peer_addr(),
            TcpStream::Background(stream) => stream.peer_addr(),
        }
    }
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("driver", &self.driver())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            TcpStream::Ours(stream) => stream.poll_read(cx, buf),
            TcpStream::Background(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            TcpStream::Ours(stream) => stream.poll_write(cx, buf),
            TcpStream::Background(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TcpStream::Ours(_) => Poll::Ready(Ok(())),
            TcpStream::Background(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TcpStream::Ours(stream) => Poll::Ready(stream.shutdown_write()),
            TcpStream::Background(stream) => Pin::new(stream).poll_close(cx),
        }
    }
}

// ANCHOR: get
/// One request to `target`, on whatever executor polls this future: connect with the portable
/// stream, then [`exchange`]. Returns which reactor drove it and what the response checker saw.
pub async fn get(
    target: &Target,
    check: ResponseCheck,
) -> Result<(Driver, ResponseSummary), FetchError> {
    let mut stream = TcpStream::connect(target.addr)
        .await
        .map_err(|e| FetchError::io(Stage::Connect, e))?;
    let summary = exchange(&mut stream, target, check).await?;
    Ok((stream.driver(), summary))
}

/// The rest of `step06_async_await::fetch::exchange` (send the request, read until the server closes, check the
/// response), written against `futures::io`'s traits, so any stream that implements them will
/// do: ours, the background reactor's, or an adapted tokio one.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    target: &Target,
    mut check: ResponseCheck,
) -> Result<ResponseSummary, FetchError> {
    stream
        .write_all(&target.request())
        .await
        .map_err(|e| FetchError::io(Stage::Write, e))?;
    let mut buf = [0u8; 8 * 1024];
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| FetchError::io(Stage::Read, e))?;
        if n == 0 {
            break; // the server closed: the response is complete
        }
        check.feed(&buf[..n])?;
    }
    Ok(check.finish()?)
}
// ANCHOR_END: get
