//! A reactor that turns on its own thread, so that I/O works under any executor.
//!
//! Step 5's reactor is turned by step 5's executor: `block_on` asks it for the kernel's news
//! whenever no task is ready. A future that registered a socket there and is polled by somebody
//! else's executor (`futures::executor::block_on`, tokio) leaves its waker with a reactor that
//! nobody turns: it never wakes. This module is the way out that smol's `async-io` takes: one
//! reactor per process, turned by a thread of its own (started the first time a socket needs
//! it), and wakers that may come from any executor. The executor only polls; the reactor
//! thread only waits for the kernel and wakes.
//!
//! The readiness protocol is step 5's (a flag and a tick per direction, see
//! [`step05_futures::reactor`]); what changes is that the reactor thread and the executor's
//! threads share each socket's state, so it sits behind a `Mutex` instead of a `RefCell`.

use std::future::Future;
use std::io::{self, ErrorKind, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};

use futures::io::{AsyncRead, AsyncWrite};
use mio::{Events, Interest, Token};
use slab::Slab;
use step05_futures::reactor::Direction;

/// One direction of one socket, as in step 5: did the kernel say ready, how many times, and who
/// waits.
#[derive(Debug, Default)]
struct Readiness {
    /// Reported ready, and not found not-ready since.
    ready: bool,
    /// Counts the reports, so a clear can tell whether a new one came in meanwhile.
    tick: u64,
    /// The task waiting for this direction, if any (from whichever executor polled it).
    waker: Option<Waker>,
}

/// What the reactor thread and the socket's owner share.
#[derive(Debug, Default)]
struct SourceState {
    /// Read and write readiness.
    directions: Mutex<[Readiness; 2]>,
}

impl SourceState {
    /// Locks the readiness (each update is one assignment: see `testbed::locks` for why a
    /// poisoned lock is still usable).
    fn lock(&self) -> MutexGuard<'_, [Readiness; 2]> {
        testbed::lock(&self.directions)
    }
}

// ANCHOR: reactor
/// The process's background reactor: what every socket needs to register, and the table the
/// reactor thread looks tokens up in.
struct BackgroundReactor {
    /// A handle on the thread's `mio::Poll` that registers from any thread.
    registry: mio::Registry,
    /// Every registered socket's state; a socket's token is its key here.
    sources: Mutex<Slab<Arc<SourceState>>>,
}

/// The one background reactor, started by the first socket that needs it.
static REACTOR: OnceLock<Result<BackgroundReactor, String>> = OnceLock::new();

/// The background reactor, started (poll created, thread spawned) on first use.
fn reactor() -> io::Result<&'static BackgroundReactor> {
    REACTOR
        .get_or_init(|| start().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| io::Error::other(format!("cannot start the background reactor: {e}")))
}

/// Creates the poll instance and the thread that turns it.
fn start() -> io::Result<BackgroundReactor> {
    let poll = mio::Poll::new()?;
    let registry = poll.registry().try_clone()?;
    std::thread::Builder::new()
        .name("background-reactor".into())
        .spawn(move || turn_forever(poll))?;
    Ok(BackgroundReactor {
        registry,
        sources: Mutex::new(Slab::new()),
    })
}

/// The reactor thread: wait for the kernel, mark what is ready, wake who waits. Forever: the
/// thread ends with the process (as async-io's does).
fn turn_forever(mut poll: mio::Poll) {
    let mut events = Events::with_capacity(1024);
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            // Nothing sensible is left to do: every socket would wait forever. Say so loudly.
            panic!("background reactor: epoll_wait failed: {e}");
        }
        let reactor = REACTOR
            .get()
            .and_then(|r| r.as_ref().ok())
            .expect("set before the thread could see an event");
        let mut to_wake = Vec::new();
        for event in events.iter() {
            // Look the token up; a socket deregistered meanwhile is simply gone. (A token whose
            // key was reused by a new socket marks that one ready once for nothing: harmless,
            // since readiness is only a hint, see `poll_io`.)
            let source = testbed::lock(&reactor.sources)
                .get(event.token().0)
                .cloned();
            let Some(source) = source else { continue };
            let failed = event.is_error();
            let happened = [
                event.is_readable() || event.is_read_closed() || failed,
                event.is_writable() || event.is_write_closed() || failed,
            ];
            let mut directions = source.lock();
            for (readiness, happened) in directions.iter_mut().zip(happened) {
                if happened {
                    readiness.ready = true;
                    readiness.tick += 1;
                    to_wake.extend(readiness.waker.take());
                }
            }
        }
        // Wake outside every lock: a waker runs the other executor's code.
        for waker in to_wake {
            waker.wake();
        }
    }
}
// ANCHOR_END: reactor

/// How many sockets are registered with the background reactor (for tests: dropping a stream
/// must deregister it). Zero if it never started.
pub fn registrations() -> usize {
    match REACTOR.get() {
        Some(Ok(reactor)) => testbed::lock(&reactor.sources).len(),
        _ => 0,
    }
}

/// Whether the background reactor's thread has been started (by the first socket needing it).
pub fn started() -> bool {
    matches!(REACTOR.get(), Some(Ok(_)))
}

/// A socket registered with the background reactor; deregistered when dropped.
#[derive(Debug)]
struct Registered {
    /// The non-blocking socket.
    io: mio::net::TcpStream,
    /// Its key in the reactor's table, and its token.
    key: usize,
    /// Shared with the reactor thread.
    state: Arc<SourceState>,
}

impl Registered {
    /// Registers `io` (for both directions, edge-triggered).
    fn new(mut io: mio::net::TcpStream) -> io::Result<Registered> {
        let reactor = reactor()?;
        let state = Arc::new(SourceState::default());
        let key = testbed::lock(&reactor.sources).insert(Arc::clone(&state));
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = reactor.registry.register(&mut io, Token(key), interest) {
            testbed::lock(&reactor.sources).remove(key);
            return Err(e);
        }
        Ok(Registered { io, key, state })
    }

    // ANCHOR: poll_io
    /// Step 5's `poll_io`, with the state behind a mutex: try `op` while `direction` is
    /// reported ready; on `WouldBlock`, clear the report (unless a new one came in meanwhile)
    /// and leave the waker. Checking the flag and leaving the waker happen under the same lock
    /// the reactor thread takes to set the flag, so a report cannot slip in between.
    fn poll_io<T>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&mio::net::TcpStream) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        loop {
            let tick = {
                let mut directions = self.state.lock();
                let readiness = &mut directions[direction as usize];
                if !readiness.ready {
                    let old = match &readiness.waker {
                        Some(waker) if waker.will_wake(cx.waker()) => None,
                        _ => readiness.waker.replace(cx.waker().clone()),
                    };
                    drop(directions);
                    drop(old); // another executor's waker: dropped outside the lock
                    return Poll::Pending;
                }
                readiness.tick
            };
            match op(&self.io) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let mut directions = self.state.lock();
                    let readiness = &mut directions[direction as usize];
                    if readiness.tick == tick {
                        readiness.ready = false;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }
    // ANCHOR_END: poll_io
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(reactor) = reactor() {
            let _ = reactor.registry.deregister(&mut self.io);
            testbed::lock(&reactor.sources).remove(self.key);
        }
    }
}

/// A TCP connection whose readiness comes from the background reactor. It is `Send` and `Sync`,
/// works under any executor, and implements `futures::io::{AsyncRead, AsyncWrite}` (so
/// `AsyncReadExt::read` and `AsyncWriteExt::write_all` apply).
#[derive(Debug)]
pub struct TcpStream {
    /// The registered socket.
    inner: Registered,
}

impl TcpStream {
    /// Connects to `addr`: starts a non-blocking connect, then waits until the socket is
    /// writable and the kernel says the handshake is over (as step 5's `Connect` does).
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream {
            inner: Registered::new(mio::net::TcpStream::connect(addr)?)?,
        };
        Connecting { stream: &stream }.await?;
        Ok(stream)
    }

    /// Closes the writing side (the peer reads end-of-file), keeping the reading side open.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.inner.io.shutdown(Shutdown::Write)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }
}

/// Waits for a connect to finish: writable, then SO_ERROR and getpeername say how it went.
struct Connecting<'a> {
    /// The connecting stream.
    stream: &'a TcpStream,
}

impl Future for Connecting<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream
            .inner
            .poll_io(cx, Direction::Write, |io| match io.take_error()? {
                Some(error) => Err(error),
                None => match io.peer_addr() {
                    Ok(_) => Ok(()),
                    // A spurious report: the handshake is still going on.
                    Err(e) if e.kind() == ErrorKind::NotConnected => {
                        Err(ErrorKind::WouldBlock.into())
                    }
                    Err(e) => Err(e),
                },
            })
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.inner
            .poll_io(cx, Direction::Read, |mut io| io.read(buf))
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner
            .poll_io(cx, Direction::Write, |mut io| io.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // a TCP socket has no buffer of ours to flush
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write())
    }
}
