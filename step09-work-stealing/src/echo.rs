//! The echo server on every core: step 6's, with no `yield_now` (the budget does it). And the
//! same server shutting down gracefully on SIGINT or SIGTERM.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use futures::future::{Either, select};
use testbed::cli::{ShutDown, Stopped};

use crate::runtime::net::{TcpListener, TcpStream};
use crate::runtime::signal::Signals;
use crate::runtime::time::{sleep, timeout};
use crate::runtime::{Runtime, spawn};
use crate::sync::Event;

// ANCHOR: echo
/// Echoes one connection until the peer is done.
async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
        // No `yield_now` here: the budget makes a busy connection yield by itself.
    }
}

/// Accepts connections forever, one task each.
async fn serve(mut listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                spawn(echo(stream));
            }
            // Out of descriptors, most likely: the connection waits in the backlog; try again.
            Err(_) => sleep(Duration::from_millis(10)).await,
        }
    }
}
// ANCHOR_END: echo

/// The echo server on a runtime of `workers` threads (and the budget, unless `budget` is
/// `None`): binds `addr`, tells `announce` where, serves forever. The accept loop runs as a
/// task on the workers, not on the calling thread, so that accepting is as parallel as
/// echoing.
pub fn echo_server(
    workers: usize,
    budget: Option<u32>,
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    let runtime = Runtime::with_budget(workers, budget)?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr)?;
        announce(listener.local_addr()?)?;
        spawn(serve(listener)).await;
        Ok(())
    })
}

/// What the server's connections share with it while it shuts down.
#[derive(Default)]
struct Connections {
    /// Connections running now.
    live: AtomicUsize,
    /// Connections stopped by `cut`.
    cut_short: AtomicUsize,
    /// Set when the server stops accepting: from then on, the last connection to end says so.
    stopping: AtomicBool,
    /// Set by the last connection to end, once `stopping` is.
    all_ended: Event,
    /// The cancellation token: set at the deadline, and every connection still running drops
    /// its work.
    cut: Event,
}

// ANCHOR: serve_until
/// Accepts connections until `stop` is ready, one task each; then stops accepting, tells
/// `stopped` how many are in flight, gives them `grace` to finish, and cuts the rest. Our
/// tasks have no `abort` (a task on another worker may be running at this very moment), so
/// each connection races its work against a cancellation token, and drops its own work when
/// the token is set: cancellation by drop, done by the task itself.
async fn serve_until(
    mut listener: TcpListener,
    stop: impl Future<Output = ()>,
    grace: Duration,
    stopped: Stopped,
) -> ShutDown {
    let connections = Arc::new(Connections::default());
    let mut stop = pin!(stop);
    loop {
        let accepted = match select(stop.as_mut(), pin!(listener.accept())).await {
            Either::Left(((), _)) => break,
            Either::Right((accepted, _)) => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                connections.live.fetch_add(1, SeqCst);
                spawn(connection(stream, Arc::clone(&connections)));
            }
            Err(_) => {
                let pause = pin!(sleep(Duration::from_millis(10)));
                if let Either::Left(_) = select(stop.as_mut(), pause).await {
                    break;
                }
            }
        }
    }
    drop(listener);
    connections.stopping.store(true, SeqCst);
    let in_flight = connections.live.load(SeqCst);
    stopped(in_flight);
    if in_flight > 0 {
        let _ = timeout(grace, connections.all_ended.wait()).await;
        connections.cut.set();
        connections.all_ended.wait().await;
    }
    // Every connection in flight has ended, by itself or cut: the finished ones are the rest.
    // (Counting them as they finish would race with `in_flight`: a connection on another
    // worker can finish between two loads.)
    let cut = connections.cut_short.load(SeqCst);
    ShutDown {
        finished: in_flight - cut,
        cut,
    }
}

/// One connection: its echo, unless the token is set first.
async fn connection(stream: TcpStream, connections: Arc<Connections>) {
    if let Either::Right(_) = select(pin!(echo(stream)), pin!(connections.cut.wait())).await {
        // The echo future is dropped here, and its stream with it: the socket closes.
        connections.cut_short.fetch_add(1, SeqCst);
    }
    let left = connections.live.fetch_sub(1, SeqCst) - 1;
    if left == 0 && connections.stopping.load(SeqCst) {
        connections.all_ended.set();
    }
}
// ANCHOR_END: serve_until

/// The echo server on a runtime of `workers` threads, until SIGINT or SIGTERM: binds `addr`,
/// tells `announce` where, serves, and on the signal shuts down gracefully (see
/// `serve_until`).
pub fn echo_server_until_signal(
    workers: usize,
    budget: Option<u32>,
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
    grace: Duration,
    stopped: Stopped,
) -> io::Result<ShutDown> {
    let runtime = Runtime::with_budget(workers, budget)?;
    runtime.block_on(async move {
        let mut signals =
            Signals::new(&[signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])?;
        let listener = TcpListener::bind(addr)?;
        announce(listener.local_addr()?)?;
        let stop = async move {
            // An error here (the signal socket failing) stops the server too.
            let _ = signals.recv().await;
        };
        // On the workers, like the accept loop of `echo_server`.
        Ok(spawn(serve_until(listener, stop, grace, stopped)).await)
    })
}
