//! The delay server: the slow remote host every step talks to, on loopback.
//!
//! It speaks just enough HTTP/1.0 for the workload: read one request head, answer it, close.
//! `GET /delay/{ms}` answers `200` after `ms` milliseconds, `GET /` after the configured default
//! delay, and the `/chaos/...` paths misbehave on purpose (see [`Route`]).
//!
//! The server runs on tokio, on one thread. That is not part of the lesson: the steps build their
//! own machinery, and the server only has to be a good citizen that never slows them down. One
//! thread keeps the second core of a small machine free for the client being measured, and a
//! sleeping connection costs a timer entry, not a thread, so 10,000 of them are cheap.
//!
//! There are two ways to start it: [`ServerHandle::start`] runs it on a thread of the calling
//! process (tests and benchmarks), [`crate::child::ChildServer`] in a child process (the step
//! binaries, so that the CPU time and memory in their report are the client's alone).

mod request;
mod respond;

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

pub use request::{MAX_DELAY_MS, MAX_HEAD_BYTES, Route};
pub use respond::{
    DRIP_RESPONSE, HUGE_BODY_BYTES, SHORT_BODY_SENT, SHORT_CONTENT_LENGTH, delay_response,
};

/// How a delay server behaves. [`ServerConfig::default`] is what the step binaries use.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen. Port 0 lets the kernel pick a free port; the chosen address is what
    /// [`ServerHandle::addr`] (or the `listening on` line) reports.
    pub addr: SocketAddr,
    /// The delay of `GET /` (and of any `/delay` the client leaves to us).
    pub default_delay: Duration,
    /// How long a client may take to send its whole request head. A client that sends half a
    /// head and goes quiet gets `408` and is closed when this runs out, so it cannot pin a
    /// connection forever.
    pub head_timeout: Duration,
    /// The pause between two bytes of `/chaos/drip`.
    pub drip_interval: Duration,
    /// The listen backlog: how many finished handshakes the kernel queues for us before we
    /// accept them. 10,000 clients connecting at once need a deep queue; the kernel silently
    /// caps this at `net.core.somaxconn` (4096 on current Linux).
    pub backlog: i32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            default_delay: Duration::from_millis(50),
            head_timeout: Duration::from_secs(10),
            drip_interval: Duration::from_millis(2),
            backlog: 8192,
        }
    }
}

/// Opens the listening socket: `SO_REUSEADDR` (so a restarted server can take its port back
/// while old connections sit in TIME_WAIT), bind, listen with the configured backlog.
///
/// Binding happens before any thread or runtime starts, so the caller learns the real address
/// (and any bind error) synchronously.
pub fn bind(config: &ServerConfig) -> io::Result<StdListener> {
    listen(config.addr, config.backlog)
}

/// A non-blocking listening socket on `addr` with `SO_REUSEADDR` and the given backlog: what
/// every server in the workspace listens with (std's and mio's `TcpListener::bind` fix the
/// backlog at 128, too small for 10,000 clients connecting at once).
pub fn listen(addr: SocketAddr, backlog: i32) -> io::Result<StdListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket
        .bind(&addr.into())
        .map_err(|e| io::Error::new(e.kind(), format!("cannot bind to {addr}: {e}")))?;
    socket.listen(backlog)?;
    // Event loops (tokio, mio) want the socket non-blocking before they take it over.
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Serves on an already bound listener until the process ends: the body of `testbed serve` and
/// of the child process. Runs its own single-threaded tokio runtime on the calling thread.
pub fn serve_forever(listener: StdListener, config: ServerConfig) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        accept_loop(listener, Arc::new(config), std::future::pending()).await;
        Ok(())
    })
}

/// A delay server running on a thread of this process. Dropping the handle stops the server,
/// closes every connection it still holds and joins the thread.
#[derive(Debug)]
pub struct ServerHandle {
    /// The address the server really listens on (port 0 resolved).
    addr: SocketAddr,
    /// Fires the shutdown; `None` once it has been sent.
    shutdown: Option<oneshot::Sender<()>>,
    /// The server's thread; `None` once joined.
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// Binds according to `config` and serves on a new thread named `testbed-server`.
    pub fn start(config: ServerConfig) -> io::Result<ServerHandle> {
        let listener = bind(&config)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("testbed-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let stop = async {
                                // Either a send or the handle's drop (a closed channel) means stop.
                                let _ = shutdown_rx.await;
                            };
                            accept_loop(listener, Arc::new(config), stop).await;
                        }
                        Err(e) => eprintln!("testbed: the delay server could not start: {e}"),
                    }
                });
                // Dropping the runtime here cancels every connection task, closing their sockets.
            })?;
        Ok(ServerHandle {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Starts a server with the default configuration on 127.0.0.1 and a free port.
    pub fn start_default() -> io::Result<ServerHandle> {
        ServerHandle::start(ServerConfig::default())
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts connections until `stop` completes, giving each its own task.
async fn accept_loop(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                tokio::spawn(handle_connection(stream, Arc::clone(&config)));
            }
            Err(e) => {
                if let Some(pause) = pause_after_accept_error(&e) {
                    eprintln!(
                        "testbed: accept failed ({e}); pausing {} ms",
                        pause.as_millis()
                    );
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

/// How long to pause after `accept` failed with `e` before trying again: not at all when the
/// error concerns only the connection being accepted (a client that reset before we accepted
/// it, say: the next one is fine); 50 ms for anything else. Out of descriptors or memory, the
/// next call would fail the same way at once, and trying again in a tight loop would keep the
/// server's one thread at 100 % CPU: the very thing it must not do to the client it measures.
fn pause_after_accept_error(e: &io::Error) -> Option<Duration> {
    use nix::libc;
    // The errors accept(2) says to treat as "try again": the pending connection's own, passed
    // on by the kernel, and an interrupted call.
    const ONE_CONNECTION: [i32; 11] = [
        libc::ECONNABORTED,
        libc::EINTR,
        libc::EPROTO,
        libc::EPERM,
        libc::ENETDOWN,
        libc::ENOPROTOOPT,
        libc::EHOSTDOWN,
        libc::ENONET,
        libc::EHOSTUNREACH,
        libc::EOPNOTSUPP,
        libc::ENETUNREACH,
    ];
    match e.raw_os_error() {
        Some(code) if ONE_CONNECTION.contains(&code) => None,
        _ if e.kind() == io::ErrorKind::Interrupted => None,
        _ => Some(Duration::from_millis(50)),
    }
}

/// One connection's whole life: read the head (bounded in size and time), route, answer.
async fn handle_connection(mut stream: TcpStream, config: Arc<ServerConfig>) {
    // Small writes (the drip) must leave at once, not wait for Nagle's algorithm to batch them.
    let _ = stream.set_nodelay(true);
    let head =
        match tokio::time::timeout(config.head_timeout, request::read_head(&mut stream)).await {
            Ok(Ok(head)) => head,
            Ok(Err(request::HeadError::Gone)) => return,
            Ok(Err(request::HeadError::Rejected(reject))) => {
                return respond::reject(stream, reject).await;
            }
            Err(_elapsed) => return respond::reject(stream, request::Reject::head_timeout()).await,
        };
    match request::route(&head, config.default_delay) {
        Ok(route) => respond::serve(stream, route, &config).await,
        Err(reject) => respond::reject(stream, reject).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Errors of one pending connection are passed by at once; errors that the next call would
    /// repeat (out of descriptors, of buffers, of memory, a broken listener) pause the loop.
    /// (Before the fix only EMFILE and ENFILE paused: a persistent ENOBUFS spun the server.)
    #[test]
    fn accept_errors_that_would_repeat_pause_the_loop() {
        use nix::libc;
        let os = io::Error::from_raw_os_error;
        for code in [
            libc::ECONNABORTED,
            libc::EPROTO,
            libc::EINTR,
            libc::ENETUNREACH,
        ] {
            assert_eq!(pause_after_accept_error(&os(code)), None, "{}", os(code));
        }
        for code in [
            libc::EMFILE,
            libc::ENFILE,
            libc::ENOBUFS,
            libc::ENOMEM,
            libc::EINVAL,
        ] {
            let pause = pause_after_accept_error(&os(code));
            assert!(
                pause.is_some_and(|p| p >= Duration::from_millis(10)),
                "{}",
                os(code)
            );
        }
    }
}
