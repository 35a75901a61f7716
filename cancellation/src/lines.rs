//! A `select!` loop over a line reader: wait for the next line *or* a tick, whichever comes
//! first, as a program does that must also do something every few milliseconds while it
//! reads. Each race drops its loser. When the loser is a line reader holding half a line in
//! its own future, the half line goes with it.

use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use futures::future::{Either, select};
use step05_futures::net::TcpStream;
use step05_futures::time::sleep;

/// How often the loop's other branch fires.
pub const TICK: Duration = Duration::from_millis(10);

/// What a loop got: the lines, and how many times the tick won the race.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    /// The lines, in order, without their `\n`.
    pub lines: Vec<String>,
    /// How many races the tick won.
    pub ticks: u32,
}

// ANCHOR: read_line
/// Reads one line, a byte at a time, into a buffer of its own. **Not cancel safe**: dropped
/// while it waits for the rest of a line, it takes the half it has read with it.
pub async fn read_line(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if stream.read(&mut byte).await? == 0 {
            return Ok(None); // the end of the stream
        }
        if byte[0] == b'\n' {
            return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
        }
        line.push(byte[0]);
    }
}
// ANCHOR_END: read_line

// ANCHOR: line_reader
/// A line reader that keeps what it has read in itself, not in the future of `next_line`.
pub struct LineReader {
    stream: TcpStream,
    /// Bytes read and not yet returned as a line.
    buf: Vec<u8>,
}

impl LineReader {
    /// Reads lines from `stream`.
    pub fn new(stream: TcpStream) -> LineReader {
        LineReader {
            stream,
            buf: Vec::new(),
        }
    }

    /// The next line. **Cancel safe**: its one `.await` is the read, and a read that is
    /// dropped has read nothing; every byte read before is already in `self.buf`, where the
    /// next call finds it.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                return Ok(Some(String::from_utf8_lossy(&line[..end]).into_owned()));
            }
            let mut chunk = [0u8; 1024];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}
// ANCHOR_END: line_reader

// ANCHOR: select_loop
/// The loop on our runtime, with [`read_line`]: loses the first half of every line that the
/// tick interrupts.
pub async fn ticking_read_line(addr: SocketAddr) -> io::Result<Received> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut received = Received::default();
    loop {
        let line = pin!(read_line(&mut stream));
        let tick = pin!(sleep(TICK));
        match select(line, tick).await {
            Either::Left((line, _tick)) => match line? {
                Some(line) => received.lines.push(line),
                None => return Ok(received),
            },
            // The tick won: the line's future is dropped at the end of this turn of the loop,
            // with whatever it had read.
            Either::Right(((), _line)) => received.ticks += 1,
        }
    }
}

/// The same loop with [`LineReader::next_line`]: loses nothing.
pub async fn ticking_line_reader(addr: SocketAddr) -> io::Result<Received> {
    let mut reader = LineReader::new(TcpStream::connect(addr).await?);
    let mut received = Received::default();
    loop {
        let line = pin!(reader.next_line());
        let tick = pin!(sleep(TICK));
        match select(line, tick).await {
            Either::Left((line, _tick)) => match line? {
                Some(line) => received.lines.push(line),
                None => return Ok(received),
            },
            Either::Right(((), _line)) => received.ticks += 1,
        }
    }
}
// ANCHOR_END: select_loop

// ANCHOR: on_tokio
/// The same two loops on tokio, with `tokio::select!` and tokio's own readers: `read_line`,
/// which its documentation says is not cancel safe, and `Lines::next_line`, which it says is.
pub async fn ticking_on_tokio(addr: SocketAddr, cancel_safe: bool) -> io::Result<Received> {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let mut reader = BufReader::new(stream);
    let mut received = Received::default();
    if cancel_safe {
        let mut lines = reader.lines();
        loop {
            tokio::select! {
                line = lines.next_line() => match line? {
                    Some(line) => received.lines.push(line),
                    None => return Ok(received),
                },
                () = tokio::time::sleep(TICK) => received.ticks += 1,
            }
        }
    }
    loop {
        let mut line = String::new();
        tokio::select! {
            n = reader.read_line(&mut line) => match n? {
                0 => return Ok(received),
                _ => received.lines.push(line.trim_end_matches('\n').to_string()),
            },
            () = tokio::time::sleep(TICK) => received.ticks += 1,
        }
    }
}
// ANCHOR_END: on_tokio
