//! The echo server, with futures: an accept loop that spawns one task per connection. Each
//! task is a small hand-written future: read a chunk, write it all back, read the next.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use crate::executor::spawn;
use crate::net::{TcpListener, TcpStream};
use crate::time::{Sleep, sleep};

// ANCHOR: echo
/// How many read-or-write steps a connection takes per poll before it lets others run.
const BUDGET: usize = 32;

/// One connection: echoes every byte, in order, until the peer is done.
struct EchoConnection {
    stream: TcpStream,
    /// The chunk being echoed.
    buf: Box<[u8; 16 * 1024]>,
    /// Bytes of `buf` that hold data.
    filled: usize,
    /// Bytes of those already written back.
    sent: usize,
}

impl Future for EchoConnection {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        for _ in 0..BUDGET {
            if this.sent < this.filled {
                // Give back what we have before reading more: the peer's pace sets ours.
                match ready!(
                    this.stream
                        .poll_write(cx, &this.buf[this.sent..this.filled])
                ) {
                    Ok(n) => this.sent += n,
                    Err(_) => return Poll::Ready(()), // the peer is gone
                }
            } else {
                match ready!(this.stream.poll_read(cx, &mut this.buf[..])) {
                    Ok(0) | Err(_) => return Poll::Ready(()), // end-of-file or gone: done
                    Ok(n) => (this.filled, this.sent) = (n, 0),
                }
            }
        }
        // A client that keeps us busy could keep every other connection waiting: after a
        // budget of work, ask to be polled again later, and let the others have a turn.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Accepts connections forever, spawning an `EchoConnection` task for each.
struct AcceptLoop {
    listener: TcpListener,
    /// A pause after an accept error (out of descriptors), before trying again.
    backoff: Option<Sleep>,
}

impl Future for AcceptLoop {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        for _ in 0..BUDGET {
            if let Some(backoff) = self.backoff.as_mut() {
                ready!(Pin::new(backoff).poll(cx));
                self.backoff = None;
            }
            match ready!(self.listener.poll_accept(cx)) {
                Ok((stream, _peer)) => {
                    let connection = EchoConnection {
                        stream,
                        buf: Box::new([0; 16 * 1024]),
                        filled: 0,
                        sent: 0,
                    };
                    // A task of its own: it runs whether or not anyone waits for it.
                    spawn(connection);
                }
                // Most likely out of descriptors: the connection waits in the backlog.
                Err(_) => self.backoff = Some(sleep(Duration::from_millis(10))),
            }
        }
        // Many connections arriving at once: take a break after a budget of them.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
// ANCHOR_END: echo

/// Listens on `addr`, tells `announce` where, and echoes until the process ends.
pub fn echo_server<A>(addr: SocketAddr, announce: A) -> io::Result<()>
where
    A: FnOnce(SocketAddr) -> io::Result<()> + Unpin,
{
    crate::block_on(Serve {
        addr,
        announce: Some(announce),
        accepting: None,
    })
}

/// Binds at the first poll (the listener registers with the runtime's reactor, which exists
/// only inside `block_on`), announces, then runs the accept loop.
struct Serve<A> {
    addr: SocketAddr,
    announce: Option<A>,
    accepting: Option<AcceptLoop>,
}

impl<A: FnOnce(SocketAddr) -> io::Result<()> + Unpin> Future for Serve<A> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.accepting.is_none() {
            let listener = TcpListener::bind(self.addr)?;
            if let Some(announce) = self.announce.take() {
                announce(listener.local_addr()?)?;
            }
            self.accepting = Some(AcceptLoop {
                listener,
                backoff: None,
            });
        }
        let accepting = self.accepting.as_mut().expect("bound above");
        ready!(Pin::new(accepting).poll(cx));
        Poll::Ready(Ok(()))
    }
}
