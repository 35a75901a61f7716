//! A greedy connection, to show what the cooperative budget is for: its socket always has
//! data, so reading it never meets an `.await` that says `Pending`. Without the budget its
//! task keeps its worker until it has read everything; every task queued behind it on that
//! worker (and, on a single worker, the reactor itself) waits.
//!
//! "Always has data" must not depend on luck: a server thread that keeps writing while the
//! client reads can lose its core for a moment, the reader drains the socket, gets
//! `WouldBlock`, and politely yields. So the server first fills the connection until the
//! kernel takes no more (megabytes: the receiver's buffer and the sender's, which the kernel
//! grows as the sender writes), then closes it; only then does the client start reading, 16
//! bytes at a time, to the end. Everything it reads is already in the kernel.

use std::io::{self, ErrorKind, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use testbed::RunClock;

use crate::runtime::net::TcpStream;
use crate::runtime::time::sleep;

/// A flood server: one connection, filled to the brim, then closed.
#[derive(Debug)]
pub struct Flood {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Set once the connection is full (and closed).
    filled: AtomicBool,
    /// Set once the greedy task has started reading.
    reading: AtomicBool,
}

impl Flood {
    /// Whether the greedy task has started reading (for a test that wants to wait until the
    /// worker is taken).
    pub fn reading(&self) -> bool {
        self.reading.load(Ordering::Acquire)
    }
}

/// Starts the flood server on a thread of its own.
pub fn flood_server() -> io::Result<Arc<Flood>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let flood = Arc::new(Flood {
        addr: listener.local_addr()?,
        filled: AtomicBool::new(false),
        reading: AtomicBool::new(false),
    });
    let server = Arc::clone(&flood);
    std::thread::Builder::new()
        .name("flood-server".into())
        .spawn(move || {
            if let Ok((stream, _)) = listener.accept() {
                let _ = fill(stream);
            }
            // Filled, or failed: either way the reader must not wait forever.
            server.filled.store(true, Ordering::Release);
        })?;
    Ok(flood)
}

/// Writes into `stream` until the kernel has taken all it will without the peer reading (it
/// says `WouldBlock` and still does after a pause, which lets it grow the buffers first), then
/// closes it: the peer reads all of it, then end-of-file.
fn fill(mut stream: std::net::TcpStream) -> io::Result<()> {
    stream.set_nonblocking(true)?;
    let chunk = vec![b'x'; 64 * 1024];
    let mut refusals = 0;
    while refusals < 3 {
        match stream.write(&chunk) {
            Ok(_) => refusals = 0,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                refusals += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(()) // dropped: closed, and what the kernel holds is still delivered
}

/// What the greedy connection did: when it read (ms of the run) and how much.
#[derive(Debug, Clone, Copy)]
pub struct Greedy {
    /// When it started reading.
    pub from_ms: f64,
    /// When it reached end-of-file.
    pub until_ms: f64,
    /// How many bytes it read.
    pub bytes: u64,
}

// ANCHOR: greedy
/// Connects to the flood, waits until it is full, then reads it all, 16 bytes per read.
pub async fn read_flood(flood: Arc<Flood>, clock: RunClock) -> io::Result<Greedy> {
    let mut stream = TcpStream::connect(flood.addr).await?;
    while !flood.filled.load(Ordering::Acquire) {
        sleep(Duration::from_millis(1)).await;
    }
    flood.reading.store(true, Ordering::Release);
    let from_ms = clock.elapsed_ms();
    let mut buf = [0u8; 16];
    let mut bytes = 0;
    loop {
        // The data is all in the kernel: this `.await` is ready every time, to the end.
        match stream.read(&mut buf).await? {
            0 => break,
            n => bytes += n as u64,
        }
    }
    Ok(Greedy {
        from_ms,
        until_ms: clock.elapsed_ms(),
        bytes,
    })
}
// ANCHOR_END: greedy
