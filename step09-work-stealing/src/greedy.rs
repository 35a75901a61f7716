//! A greedy connection, to show what the cooperative budget is for: it reads a server that
//! never stops sending, 64 bytes at a time, so its socket is always ready and its task never
//! meets an `.await` that says `Pending`. Without the budget it keeps its worker until it has
//! read everything; every task queued behind it on that worker (and, on a single worker, the
//! reactor itself) waits.

use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use testbed::RunClock;

use crate::runtime::net::TcpStream;
use crate::runtime::time::sleep;

/// Starts a server on its own thread that floods every client with bytes until the client
/// goes away. Returns its address.
pub fn flood_server() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::Builder::new()
        .name("flood-server".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let _ = std::thread::Builder::new()
                    .name("flood".into())
                    .spawn(move || {
                        let chunk = vec![b'x'; 64 * 1024];
                        while stream.write_all(&chunk).is_ok() {}
                    });
            }
        })?;
    Ok(addr)
}

/// How long the flood runs before the greedy connection starts reading: long enough for the
/// kernel to grow the socket's buffers to megabytes, so that 64-byte reads never catch up with
/// the writer (at the start the buffers hold about a hundred KiB, and a writer thread that
/// loses its core for two milliseconds would let the reader drain them and wait, politely).
pub const HEAD_START: Duration = Duration::from_millis(20);

// ANCHOR: greedy
/// Reads `bytes` from the flood at `addr`, 64 bytes per read, after a head start of
/// [`HEAD_START`]. Returns when it started and ended reading, in ms of the run.
pub async fn read_flood(addr: SocketAddr, bytes: usize, clock: RunClock) -> io::Result<(f64, f64)> {
    let mut stream = TcpStream::connect(addr).await?;
    sleep(HEAD_START).await;
    let started = clock.elapsed_ms();
    let mut buf = [0u8; 64];
    let mut total = 0;
    while total < bytes {
        // The socket is (almost) always ready: this `.await` (almost) never says Pending.
        match stream.read(&mut buf).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => total += n,
        }
    }
    Ok((started, clock.elapsed_ms()))
}
// ANCHOR_END: greedy
