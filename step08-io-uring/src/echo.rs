//! The echo server on the ring: step 6's, with owned buffers. An accept loop spawns a task per
//! connection; each receives into its buffer and sends the same buffer back. And the same
//! server shutting down gracefully on SIGINT or SIGTERM, as step 6's does.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use futures::future::{Either, select};
use step05_futures::spawn;
use step06_async_await::group::TaskGroup;
use testbed::cli::{ShutDown, Stopped};

use crate::uring::block_on;
use crate::uring::net::{TcpListener, TcpStream};
use crate::uring::signal::Signals;
use crate::uring::time::{sleep, timeout};

// ANCHOR: echo
/// Echoes one connection until the peer is done. One buffer goes back and forth between the
/// task and the kernel: received into, then sent from, then received into again.
async fn echo(stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    for round in 1u64.. {
        buf.resize(16 * 1024, 0);
        let (n, back) = stream.read(buf).await;
        buf = back;
        match n {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.truncate(n),
        }
        let (written, back) = stream.write_all(buf).await;
        buf = back;
        if written.is_err() {
            return;
        }
        // A client that keeps this socket busy would keep every other connection waiting:
        // now and then, let the others run.
        if round % 32 == 0 {
            step06_async_await::yield_now::yield_now().await;
        }
    }
}

/// Accepts connections forever, one task each.
async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                spawn(echo(stream));
            }
            // Out of descriptors, most likely: the connection waits in the backlog; try again.
            Err(_) => sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}
// ANCHOR_END: echo

/// The echo server on the ring: binds `addr`, tells `announce` where, serves forever.
pub fn echo_server(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    block_on(async move {
        let listener = TcpListener::bind(addr)?;
        announce(listener.local_addr())?;
        serve(listener).await;
        Ok(())
    })
}

// ANCHOR: serve_until
/// Accepts connections until `stop` is ready, one task each, in step 6's task group; then
/// stops accepting, tells `stopped` how many are in flight, gives them `grace` to finish (a
/// timer of the ring), and cancels the rest. Step 6's `serve_until`, with the ring's timer in
/// place of the reactor's: a cancelled connection's operations are orphaned and cancelled on
/// the ring, and its socket closes when the kernel is done with them.
async fn serve_until(
    listener: TcpListener,
    stop: impl Future<Output = ()>,
    grace: Duration,
    stopped: Stopped,
) -> ShutDown {
    let connections = TaskGroup::<Infallible>::new();
    let mut stop = pin!(stop);
    loop {
        let accepted = match select(stop.as_mut(), pin!(listener.accept())).await {
            Either::Left(((), _)) => break,
            Either::Right((accepted, _)) => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => connections.spawn(async move {
                echo(stream).await;
                Ok(())
            }),
            Err(_) => {
                let pause = pin!(sleep(Duration::from_millis(10)));
                if let Either::Left(_) = select(stop.as_mut(), pause).await {
                    break;
                }
            }
        }
    }
    // Refuse new clients now, not with the ring's next batch.
    let _ = listener.close();
    let before = connections.finished();
    stopped(connections.len());
    // An echo connection cannot fail: only the deadline ends the wait early.
    let _ = timeout(grace, connections.join()).await;
    ShutDown {
        finished: connections.finished() - before,
        cut: connections.cancel(),
    }
}
// ANCHOR_END: serve_until

/// The echo server on the ring, until SIGINT or SIGTERM: binds `addr`, tells `announce`
/// where, serves, and on the signal shuts down gracefully (see `serve_until`).
pub fn echo_server_until_signal(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
    grace: Duration,
    stopped: Stopped,
) -> io::Result<ShutDown> {
    block_on(async move {
        let mut signals =
            Signals::new(&[signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])?;
        let listener = TcpListener::bind(addr)?;
        announce(listener.local_addr())?;
        let stop = async move {
            // An error here (the signal socket failing) stops the server too.
            let _ = signals.recv().await;
        };
        Ok(serve_until(listener, stop, grace, stopped).await)
    })
}
