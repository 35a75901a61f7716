//! The floor: what a connection costs when the client does nothing but the system calls a
//! connection needs.
//!
//! Every step pays the kernel for its connections (a socket, a handshake, a request, a response,
//! a close) and pays itself for its machinery: records and timelines, wakers, tasks, allocation.
//! This client pays only the first part. One epoll instance, edge-triggered; per connection:
//! `socket`, `connect` (`EINPROGRESS`), one `epoll_ctl` (readable and writable at once), one
//! `write` when the connect completes (a failed connect shows up as the write's error: no
//! `getsockopt`), `read`s until end-of-file (the server answers HTTP/1.0 and closes), and
//! `close`. `epoll_wait` is shared by every connection ready at the same time. Its state is one
//! preallocated array; nothing is allocated per connection until the results are written out at
//! the end. A response counts as good when its status line says `200` and the server closed
//! cleanly: the floor does not parse the rest.
//!
//! `compare` runs it as the first row, `floor/bare-epoll`, and measures every step against its CPU.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, SockaddrStorage};
use testbed::{ConnectionResult, Plan, Variant, Workload};

/// How many events one `epoll_wait` returns at most.
const MAX_EVENTS: usize = 1024;

/// What a good response starts with, after `HTTP/1.x `.
const OK_STATUS: &[u8] = b"200";

/// One connection: all the floor keeps about it.
#[derive(Default)]
struct Conn {
    /// The socket, while the connection is open.
    fd: Option<OwnedFd>,
    /// When it started, connected (its request written), got its first byte, ended.
    start_ms: f64,
    written_ms: Option<f64>,
    first_byte_ms: Option<f64>,
    done_ms: f64,
    /// Response bytes read.
    bytes: u64,
    /// The first bytes of the response (the status line's start), to check the status.
    head: [u8; 12],
    /// Why it failed, if it did.
    error: Option<String>,
    /// Whether it has ended (closed).
    done: bool,
}

impl Conn {
    /// Ends the connection: closes the socket (which also takes it out of the epoll set).
    fn finish(&mut self, now_ms: f64, error: Option<String>) {
        self.fd = None;
        self.done_ms = now_ms;
        self.error = error;
        self.done = true;
    }

    /// Whether the response's status line says `200`.
    fn status_ok(&self) -> bool {
        self.head.starts_with(b"HTTP/1.") && self.head[9..12] == *OK_STATUS
    }
}

/// Runs the fan-out at the floor: every connection started at once, then one loop of
/// `epoll_wait` until every connection has ended or passed its deadline.
pub fn fan_out(workload: &Workload) -> io::Result<Vec<ConnectionResult>> {
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    let mut conns: Vec<Conn> = (0..workload.len()).map(|_| Conn::default()).collect();
    // The request of each distinct target, made once (the comparison's targets are all alike).
    let requests: Vec<Vec<u8>> = workload.targets.iter().map(|t| t.request()).collect();
    let clock = workload.clock;
    let mut open = 0usize;
    for (id, conn) in conns.iter_mut().enumerate() {
        conn.start_ms = clock.elapsed_ms();
        match start(&epoll, id, &workload.targets[id].addr) {
            Ok(fd) => {
                conn.fd = Some(fd);
                open += 1;
            }
            Err(e) => conn.finish(clock.elapsed_ms(), Some(format!("connect: {e}"))),
        }
    }
    let timeout_ms = workload.timeout.as_secs_f64() * 1e3;
    let mut events = vec![EpollEvent::empty(); MAX_EVENTS.min(conns.len().max(1))];
    let mut buf = [0u8; 8192];
    // Connections start in id order, so their deadlines come in id order too: the first one
    // still open has the earliest.
    let mut first_open = 0;
    while open > 0 {
        while conns[first_open].done {
            first_open += 1;
        }
        let earliest = conns[first_open].start_ms + timeout_ms;
        let wait_ms = (earliest - clock.elapsed_ms()).max(0.0).ceil() as u32;
        let timeout = EpollTimeout::try_from(wait_ms).unwrap_or(EpollTimeout::NONE);
        let ready = epoll.wait(&mut events, timeout)?;
        let now_ms = clock.ms(Instant::now());
        for event in &events[..ready] {
            let id = event.data() as usize;
            let conn = &mut conns[id];
            if conn.done {
                continue;
            }
            if conn.written_ms.is_none() {
                // Writable (or failed): the connect is over. Write the request; a connect that
                // failed makes the write fail with its error.
                if let Err(e) = write_request(conn, &requests[id]) {
                    conn.finish(now_ms, Some(e));
                    open -= 1;
                    continue;
                }
                conn.written_ms = Some(now_ms);
            }
            let readable = EpollFlags::EPOLLIN
                | EpollFlags::EPOLLRDHUP
                | EpollFlags::EPOLLHUP
                | EpollFlags::EPOLLERR;
            if event.events().intersects(readable) {
                // Edge-triggered: read until the kernel has nothing more (or end-of-file).
                if let Some(outcome) = read_all(conn, &mut buf, now_ms) {
                    conn.finish(now_ms, outcome.err());
                    open -= 1;
                }
            }
        }
        // Connections past their deadline end as timed out (in id order, as they started).
        let now_ms = clock.elapsed_ms();
        for conn in conns[first_open..]
            .iter_mut()
            .take_while(|c| now_ms >= c.start_ms + timeout_ms)
            .filter(|c| !c.done)
        {
            conn.finish(now_ms, Some("timed out".into()));
            open -= 1;
        }
    }
    Ok(conns
        .into_iter()
        .enumerate()
        .map(|(id, c)| {
            let ok = c.error.is_none() && c.status_ok();
            let error = match (ok, c.error) {
                (true, _) => None,
                (false, Some(e)) => Some(e),
                (false, None) => Some("the response's status is not 200".into()),
            };
            ConnectionResult {
                id,
                ok,
                start_ms: c.start_ms,
                connected_ms: c.written_ms,
                written_ms: c.written_ms,
                first_byte_ms: c.first_byte_ms,
                done_ms: c.done_ms,
                bytes: c.bytes,
                error,
                started_on: None,
                finished_on: None,
            }
        })
        .collect())
}

// ANCHOR: start
/// `socket` and `connect` (non-blocking: `EINPROGRESS`), then one `epoll_ctl` for both
/// directions, edge-triggered, with the connection's number as the event's data.
fn start(epoll: &Epoll, id: usize, addr: &std::net::SocketAddr) -> nix::Result<OwnedFd> {
    let fd = socket::socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    match socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(*addr)) {
        Ok(()) | Err(Errno::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    let flags =
        EpollFlags::EPOLLIN | EpollFlags::EPOLLOUT | EpollFlags::EPOLLRDHUP | EpollFlags::EPOLLET;
    epoll.add(fd.as_fd(), EpollEvent::new(flags, id as u64))?;
    Ok(fd)
}
// ANCHOR_END: start

/// Writes the whole request in one `write` (a few dozen bytes into an empty send buffer).
fn write_request(conn: &Conn, request: &[u8]) -> Result<(), String> {
    let fd = conn.fd.as_ref().expect("an open connection has its socket");
    match nix::unistd::write(fd, request) {
        Ok(n) if n == request.len() => Ok(()),
        Ok(n) => Err(format!("write: only {n} of {} bytes", request.len())),
        Err(e) => Err(format!("connect: {}", io::Error::from(e))),
    }
}

/// Reads what the socket holds. `None`: nothing more for now (`EAGAIN`); `Some`: the
/// connection is over, at end-of-file or on an error.
fn read_all(conn: &mut Conn, buf: &mut [u8], now_ms: f64) -> Option<Result<(), String>> {
    let fd = conn.fd.as_ref().expect("an open connection has its socket");
    loop {
        match nix::unistd::read(fd, buf) {
            Ok(0) => return Some(Ok(())),
            Ok(n) => {
                conn.first_byte_ms.get_or_insert(now_ms);
                let at = conn.bytes as usize;
                if at < conn.head.len() {
                    let take = (conn.head.len() - at).min(n);
                    conn.head[at..at + take].copy_from_slice(&buf[..take]);
                }
                conn.bytes += n as u64;
            }
            Err(Errno::EAGAIN) => return None,
            Err(Errno::EINTR) => {}
            Err(e) => return Some(Err(format!("read: {}", io::Error::from(e)))),
        }
    }
}

/// The floor as a row of the comparison.
pub fn variant() -> Variant {
    Variant {
        step: "floor",
        variant: "bare-epoll",
        about: "only the system calls a connection needs, on one edge-triggered epoll: no records, no machinery",
        fan_out: |w| match fan_out(w) {
            Ok(results) => results.into(),
            Err(e) => panic!("floor: the epoll instance failed: {e}"),
        },
        cannot_run: |_: &Plan| None,
    }
}
