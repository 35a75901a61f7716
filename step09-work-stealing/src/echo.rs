//! The echo server on every core: step 6's, with no `yield_now` (the budget does it).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::runtime::net::{TcpListener, TcpStream};
use crate::runtime::time::sleep;
use crate::runtime::{Runtime, spawn};

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
