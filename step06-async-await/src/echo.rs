//! The echo server with `async`/`.await`, on step 5's runtime: an accept loop that spawns a
//! task per connection; and the same server shutting down gracefully on SIGINT or SIGTERM,
//! its connections in a task group.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use futures::future::{Either, select};

use step05_futures::net::{TcpListener, TcpStream};
use step05_futures::time::sleep;
use step05_futures::{block_on, spawn};

use crate::group::{Ended, TaskGroup};
use crate::yield_now::yield_now;

// ANCHOR: echo
/// Echoes one connection until the peer is done.
async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    for round in 1.. {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
        // A client that keeps this socket busy would keep every other connection waiting:
        // now and then, let the others run.
        if round % 32 == 0 {
            yield_now().await;
        }
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

/// The echo server on our runtime: binds `addr`, tells `announce` where, serves forever.
pub fn echo_server(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    block_on(async move {
        let listener = TcpListener::bind(addr)?;
        announce(listener.local_addr()?)?;
        serve(listener).await;
        Ok(())
    })
}

// ANCHOR: serve_until
/// Accepts connections until `stop` is ready, one task each, in a group; then stops
/// accepting (the listener is closed: new clients are refused), tells `stopped` how many
/// connections are in flight, gives them `grace` to finish, and cancels the rest.
async fn serve_until(
    mut listener: TcpListener,
    stop: impl Future<Output = ()>,
    grace: Duration,
    stopped: impl FnOnce(usize),
) -> Ended {
    let connections = TaskGroup::<Infallible>::new();
    // Pinned once, outside the loop: each turn's `select` borrows it, and the one that loses
    // leaves it as it was, ready for the next turn.
    let mut stop = pin!(stop);
    loop {
        // The stop first, so that a steady flow of connections cannot keep it waiting; and
        // dropping an accept that lost takes no connection (one is taken only when the
        // accept returns it).
        let accepted = match select(stop.as_mut(), pin!(listener.accept())).await {
            Either::Left(((), _)) => break,
            Either::Right((accepted, _)) => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => connections.spawn(async move {
                echo(stream).await;
                Ok(())
            }),
            // Out of descriptors, most likely: wait a little, still listening for the stop.
            Err(_) => {
                let pause = pin!(sleep(Duration::from_millis(10)));
                if let Either::Left(_) = select(stop.as_mut(), pause).await {
                    break;
                }
            }
        }
    }
    drop(listener);
    stopped(connections.len());
    // An echo connection cannot fail (its error type has no values): only the deadline ends
    // the wait early.
    let Ok(ended) = connections.join_within(grace).await;
    ended
}
// ANCHOR_END: serve_until

/// The echo server on our runtime, until SIGINT or SIGTERM: binds `addr`, tells `announce`
/// where, serves, and on the signal shuts down gracefully (see `serve_until`), telling
/// `stopped` how many connections are in flight. Returns how they ended.
pub fn echo_server_until_signal(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
    grace: Duration,
    stopped: impl FnOnce(usize),
) -> io::Result<Ended> {
    block_on(async move {
        let stop = crate::signal::interrupted()?;
        let listener = TcpListener::bind(addr)?;
        announce(listener.local_addr()?)?;
        Ok(serve_until(listener, stop, grace, stopped).await)
    })
}
