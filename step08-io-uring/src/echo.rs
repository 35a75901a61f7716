//! The echo server on the ring: step 6's, with owned buffers. An accept loop spawns a task per
//! connection; each receives into its buffer and sends the same buffer back.

use std::io;
use std::net::SocketAddr;

use step05_futures::spawn;

use crate::uring::block_on;
use crate::uring::net::{TcpListener, TcpStream};
use crate::uring::time::sleep;

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
