//! The echo server with `async`/`.await`, on step 5's runtime: an accept loop that spawns a
//! task per connection.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use step05_futures::net::{TcpListener, TcpStream};
use step05_futures::time::sleep;
use step05_futures::{block_on, spawn};

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
