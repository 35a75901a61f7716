//! The talk's second program: start a connect that does not wait, and count while it happens.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::sys::{ConnectStart, NonBlockingSocket};

/// How many of the "do some math" lines are printed before the counting goes quiet (printing
/// is slow, and would be most of what we measure).
const LINES_SHOWN: u64 = 5;

/// How a count-while-connecting attempt ended.
#[derive(Debug)]
pub enum CountError {
    /// The connection failed (refused, unreachable, ...) after this many counts.
    Failed {
        /// Counts done before the failure was noticed.
        counted: u64,
        /// What the kernel reported.
        error: io::Error,
    },
    /// The deadline passed first.
    TimedOut {
        /// Counts done by then.
        counted: u64,
    },
    /// A system call failed before there was anything to count.
    Setup(io::Error),
}

impl std::fmt::Display for CountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CountError::Failed { counted, error } => {
                write!(
                    f,
                    "{} (after counting to {counted})",
                    testbed::record::describe_io_error(error)
                )
            }
            CountError::TimedOut { counted } => {
                write!(f, "timed out (after counting to {counted})")
            }
            CountError::Setup(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CountError {}

/// A connection made while counting.
#[derive(Debug)]
pub struct Connected {
    /// The socket, still non-blocking.
    pub socket: NonBlockingSocket,
    /// Who we are connected to.
    pub peer: SocketAddr,
    /// How far we counted while the handshake was in flight.
    pub counted: u64,
}

/// Prints the first few "do some math" lines, then a note that the counting goes on quietly.
fn show_progress(out: &mut impl Write, waiting_for: &str, counted: u64) {
    if counted < LINES_SHOWN {
        let _ = writeln!(
            out,
            "Let's do some math while waiting for {waiting_for}: {counted}"
        );
    } else if counted == LINES_SHOWN {
        let _ = writeln!(out, "... (counting on quietly)");
    }
}

// ANCHOR: count_while_connecting
/// Connects to `addr` without waiting, counting while the handshake is in flight. Progress
/// lines go to `out`.
pub fn count_while_connecting(
    addr: SocketAddr,
    timeout: Duration,
    out: &mut impl Write,
) -> Result<Connected, CountError> {
    let deadline = Instant::now() + timeout;
    let socket = NonBlockingSocket::new(&addr).map_err(CountError::Setup)?;
    match socket.connect(&addr) {
        // EINPROGRESS: "I have started, it will take a moment". Not an error: the handshake
        // goes on in the kernel while we do something else.
        Ok(ConnectStart::InProgress) => {
            let _ = writeln!(out, "connect: {}", nix::errno::Errno::EINPROGRESS.desc());
        }
        Ok(ConnectStart::Connected) => {}
        // Some failures are known at once (no route, no such address).
        Err(error) => return Err(CountError::Failed { counted: 0, error }),
    }
    let mut counted = 0u64;
    loop {
        // A connect that failed in the background leaves its error in SO_ERROR. Check it
        // first: after a refusal, getpeername would say "not connected" forever.
        if let Some(error) = socket.take_error().map_err(CountError::Setup)? {
            return Err(CountError::Failed { counted, error });
        }
        // getpeername succeeds only once the handshake is complete.
        if let Some(peer) = socket.peer_addr().map_err(CountError::Setup)? {
            return Ok(Connected {
                socket,
                peer,
                counted,
            });
        }
        // Not yet. Our time is free: do some math.
        show_progress(out, "the connection", counted);
        counted += 1;
        if Instant::now() >= deadline {
            return Err(CountError::TimedOut { counted });
        }
    }
}
// ANCHOR_END: count_while_connecting

// ANCHOR: count_until_answer
/// Sends `request` on a connected non-blocking socket and reads the answer to end-of-file,
/// counting every time the kernel says "not yet" (`EWOULDBLOCK`). Returns the bytes received
/// and the count. On loopback the handshake is over before we can count, but the server's
/// delay is all ours.
pub fn count_until_answer(
    socket: &NonBlockingSocket,
    request: &[u8],
    timeout: Duration,
    out: &mut impl Write,
) -> Result<(usize, u64), CountError> {
    let deadline = Instant::now() + timeout;
    let (mut written, mut received, mut counted) = (0, 0, 0u64);
    let mut buf = [0u8; 4096];
    loop {
        let sending = written < request.len();
        let answer = if sending {
            socket.write(&request[written..])
        } else {
            socket.read(&mut buf)
        };
        match answer {
            Ok(n) if sending => written += n,
            // End-of-file: the server has said everything.
            Ok(0) => return Ok((received, counted)),
            Ok(n) => received += n,
            // Not yet: nothing to read (or no room to write). Do some math instead of waiting.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                show_progress(out, "the answer", counted);
                counted += 1;
                if Instant::now() >= deadline {
                    return Err(CountError::TimedOut { counted });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(CountError::Failed { counted, error }),
        }
    }
}
// ANCHOR_END: count_until_answer
