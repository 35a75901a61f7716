//! The other end of each hazard: small blocking servers on a thread of their own, on
//! loopback, port 0, each serving one connection and stopping by themselves.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The lines [`lines_in_halves`] sends, in order.
pub const LINES: [&str; 4] = ["alpha", "bravo", "charlie", "delta"];

/// The pause between the two halves of a line, and between lines: long enough that a reader
/// waiting in between is sure to be interrupted by a 10 ms tick.
pub const GAP: Duration = Duration::from_millis(60);

// ANCHOR: halves
/// Serves one connection: sends each of [`LINES`] in two halves, `GAP` apart (so a reader
/// always holds half a line for a while), then closes.
pub fn lines_in_halves() -> io::Result<(SocketAddr, JoinHandle<io::Result<()>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept()?;
        for line in LINES {
            let line = format!("{line}\n");
            let (first, second) = line.split_at(line.len() / 2);
            stream.write_all(first.as_bytes())?;
            thread::sleep(GAP);
            stream.write_all(second.as_bytes())?;
            thread::sleep(GAP);
        }
        Ok(())
    });
    Ok((addr, server))
}
// ANCHOR_END: halves

// ANCHOR: late_reader
/// Serves one connection: reads nothing for `wait` (so the sender's writes fill the socket's
/// buffers and block), then reads to the end. The thread's result is how many bytes arrived.
pub fn late_reader(wait: Duration) -> io::Result<(SocketAddr, JoinHandle<io::Result<u64>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept()?;
        thread::sleep(wait);
        let mut received = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return Ok(received),
                Ok(n) => received += n as u64,
                // The sender may close with data we never read: a reset, and the end.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(received),
                Err(e) => return Err(e),
            }
        }
    });
    Ok((addr, server))
}
// ANCHOR_END: late_reader
