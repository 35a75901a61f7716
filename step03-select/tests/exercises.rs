//! The worked solutions of chapter 3's exercises (select, poll and epoll): the level- and
//! edge-triggered rule on a bare socket, the waits a run of hung connections costs, a fan-out
//! that starts its connections in batches, and an edge-triggered epoll waiter under the fault
//! suite.
#![cfg(target_os = "linux")]

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::PollTimeout;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use step02_nonblocking::connection::{Connection, Visit, Wants};
use step03_select::fan_out;
use step03_select::poll::Poll;
use step03_select::select::Select;
use step03_select::waiter::{Waiter, Watched, timeout_ms};
use testbed::{ConnectionResult, FetchError, ServerConfig, ServerHandle, Stage, Target, Workload};

/// A connected pair of TCP sockets on loopback: (the one we watch, the peer that writes).
fn socket_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let watched = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (peer, _) = listener.accept().unwrap();
    (watched, peer)
}

/// How many events one `epoll_wait` on `epoll` reports, waiting at most `ms` milliseconds.
fn events(epoll: &Epoll, ms: u16) -> usize {
    let mut events = [EpollEvent::empty(); 4];
    epoll.wait(&mut events, PollTimeout::from(ms)).unwrap()
}

// ANCHOR: level_and_edge
/// Exercise 2: the rule behind "Break the rule", on a bare socket. Five bytes arrive and we read
/// one. Level-triggered epoll reports the socket again at once; edge-triggered epoll stays
/// silent about the four bytes that are still there, until new data makes a new edge.
#[test]
fn level_reports_what_is_left_edge_does_not() {
    for edge in [false, true] {
        let (mut watched, mut peer) = socket_pair();
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).unwrap();
        let mut flags = EpollFlags::EPOLLIN;
        if edge {
            flags |= EpollFlags::EPOLLET;
        }
        epoll.add(&watched, EpollEvent::new(flags, 0)).unwrap();

        peer.write_all(b"hello").unwrap();
        assert_eq!(events(&epoll, 1000), 1, "edge={edge}: the data is reported");
        let mut one = [0u8; 1];
        watched.read_exact(&mut one).unwrap(); // stop early: four bytes stay in the socket

        // Nothing new has arrived. Level: still readable, so reported. Edge: no new edge.
        let again = events(&epoll, 0);
        assert_eq!(again, if edge { 0 } else { 1 }, "edge={edge}");

        // New data is a new edge: now both report it, and the four old bytes come along.
        peer.write_all(b"!").unwrap();
        assert_eq!(events(&epoll, 1000), 1, "edge={edge}: new data is reported");
        let mut rest = [0u8; 5];
        watched.read_exact(&mut rest).unwrap();
        assert_eq!(&rest, b"ello!");
    }
}
// ANCHOR_END: level_and_edge

// ANCHOR: counting_waiter
/// A waiter that counts its waits, and otherwise does what `inner` does.
struct Counting<'a, W> {
    inner: W,
    waits: &'a Cell<usize>,
}

impl<W: Waiter> Waiter for Counting<'_, W> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn added<S: Watched>(&mut self, watched: &S) -> io::Result<()> {
        self.inner.added(watched)
    }
    fn changed<S: Watched>(&mut self, watched: &S) -> io::Result<()> {
        self.inner.changed(watched)
    }
    fn removed<S: Watched>(&mut self, watched: &S) -> io::Result<()> {
        self.inner.removed(watched)
    }
    fn wait<S: Watched>(
        &mut self,
        watched: &BTreeMap<RawFd, S>,
        timeout: Option<Duration>,
        ready: &mut Vec<RawFd>,
    ) -> io::Result<()> {
        self.waits.set(self.waits.get() + 1);
        self.inner.wait(watched, timeout, ready)
    }
}

/// Exercise 3: three connections to a server that never answers, 300 ms deadline. The waiting
/// loop gets through it with a handful of waits (connected, sent, then one sleep to the
/// deadline); step 2's busy loop goes round its connections over and over for the same 300 ms.
#[test]
fn a_hung_run_costs_a_handful_of_waits() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let target = Target::new(server.addr(), "/chaos/hang");
    let workload = Workload::uniform(target, 3, Duration::from_millis(300));

    let waits = Cell::new(0);
    let results = fan_out(
        &workload,
        Counting {
            inner: Poll,
            waits: &waits,
        },
        None,
    );
    for r in &results {
        assert!(
            r.error.as_deref().unwrap_or("").contains("timed out"),
            "{r:?}"
        );
    }
    assert!(waits.get() <= 10, "{} waits", waits.get());

    let busy = step02_nonblocking::busy_wait(&workload);
    assert!(busy.results.iter().all(|r| !r.ok));
    assert!(
        busy.passes > 100 && busy.passes > 10 * waits.get() as u64,
        "the busy loop went round {} times, the waiting loop waited {} times",
        busy.passes,
        waits.get()
    );
}
// ANCHOR_END: counting_waiter

/// The size of the read buffer shared by all connections.
const READ_BUFFER: usize = 8 * 1024;

/// The state of one run: `FanOut` of `src/fan_out.rs` (private there), without the progress
/// lines. Same map, same deadlines, same `start`, `retire`, `on_ready` and `expire`.
struct Run<W> {
    connections: BTreeMap<RawFd, Connection>,
    deadlines: BTreeSet<(Instant, RawFd)>,
    waiter: W,
    results: Vec<ConnectionResult>,
}

impl<W: Waiter> Run<W> {
    fn start(&mut self, workload: &Workload, id: usize) {
        let connection = match Connection::start(workload, id) {
            Ok(connection) => connection,
            Err(failed) => return self.results.push(failed),
        };
        if let Err(e) = self.waiter.added(&connection) {
            return self
                .results
                .push(connection.finish(Err(FetchError::io(Stage::Connect, e))));
        }
        self.deadlines
            .insert((connection.deadline(), connection.fd()));
        self.connections.insert(connection.fd(), connection);
    }

    fn retire(&mut self, fd: RawFd, outcome: Result<(), FetchError>) {
        if let Some(connection) = self.connections.remove(&fd) {
            self.deadlines.remove(&(connection.deadline(), fd));
            let _ = self.waiter.removed(&connection);
            self.results.push(connection.finish(outcome));
        }
    }

    fn on_ready(&mut self, fd: RawFd, buf: &mut [u8]) {
        let Some(connection) = self.connections.get_mut(&fd) else {
            return;
        };
        let wanted = connection.wants();
        match connection.visit(buf) {
            Ok(Visit::NotYet) if connection.wants() == wanted => {}
            Ok(Visit::NotYet) => {
                if let Err(e) = self.waiter.changed(connection) {
                    self.retire(fd, Err(FetchError::io(Stage::Read, e)));
                }
            }
            Ok(Visit::Finished) => self.retire(fd, Ok(())),
            Err(e) => self.retire(fd, Err(e)),
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(deadline, fd)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            match self.connections.get(&fd).map(Connection::timed_out) {
                Some(error) => self.retire(fd, Err(error)),
                None => {
                    self.deadlines.pop_first();
                }
            }
        }
    }
}

/// How many connections `fan_out_batched` starts before it looks at what is ready.
const BATCH: usize = 100;

// ANCHOR: fan_out_batched
/// Exercise 4: `fan_out` with its starts spread out. It starts `BATCH` connections, looks (a
/// wait with a zero timeout) and visits what is ready, starts the next batch, and so on; once
/// everything is started, it is `fan_out`'s loop again, sleeping until the nearest deadline.
pub fn fan_out_batched<W: Waiter>(workload: &Workload, waiter: W) -> Vec<ConnectionResult> {
    let mut run = Run {
        connections: BTreeMap::new(),
        deadlines: BTreeSet::new(),
        waiter,
        results: Vec::with_capacity(workload.len()),
    };
    let (mut ready, mut buf) = (Vec::new(), vec![0u8; READ_BUFFER]);
    let mut next = 0; // the first connection not started yet
    while next < workload.len() || !run.connections.is_empty() {
        let end = (next + BATCH).min(workload.len());
        for id in next..end {
            run.start(workload, id);
        }
        next = end;
        let timeout = if next < workload.len() {
            // More to start: only look, do not sleep.
            Some(Duration::ZERO)
        } else {
            run.deadlines
                .first()
                .map(|(deadline, _)| deadline.saturating_duration_since(Instant::now()))
        };
        ready.clear();
        if let Err(e) = run.waiter.wait(&run.connections, timeout, &mut ready) {
            let why = format!("{}() failed: {e}", run.waiter.name());
            for fd in run.connections.keys().copied().collect::<Vec<_>>() {
                run.retire(fd, Err(FetchError::Setup(why.clone())));
            }
            let error = FetchError::Setup(why);
            // The ones never started fail too: every connection gets its result.
            for id in next..workload.len() {
                let never = ConnectionResult::failed_at_start(workload.clock, id, &error);
                run.results.push(never);
            }
            break;
        }
        for &fd in &ready {
            run.on_ready(fd, &mut buf);
        }
        run.expire(Instant::now());
    }
    run.results.sort_by_key(|r| r.id);
    run.results
}
// ANCHOR_END: fan_out_batched

/// A workload of `n` connections to a server that answers after 20 ms.
fn delayed(n: usize) -> (ServerHandle, Workload) {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let target = Target::new(server.addr(), "/delay/20");
    let workload = Workload::uniform(target, n, Duration::from_secs(10));
    (server, workload)
}

/// The time the last connection of a run started.
fn last_start(results: &[ConnectionResult]) -> f64 {
    results.iter().map(|r| r.start_ms).fold(0.0, f64::max)
}

// ANCHOR: batched_test
/// Exercise 4: 300 connections through the batched fan-out on select, poll and epoll all
/// succeed, and requests of the first batch are already sent before the last batch starts.
/// Plain `fan_out` sends none before it has started all 300: it visits nothing until then.
#[test]
fn batched_starts_send_requests_before_the_last_batch() {
    let (_server, workload) = delayed(300);
    let epoll = step03_select::epoll::Epoll::new().unwrap();
    for results in [
        fan_out_batched(&workload, Select),
        fan_out_batched(&workload, Poll),
        fan_out_batched(&workload, epoll),
    ] {
        assert_eq!(results.len(), 300);
        assert!(results.iter().enumerate().all(|(id, r)| r.ok && r.id == id));
        let last = last_start(&results);
        let early = results[..BATCH]
            .iter()
            .filter(|r| r.written_ms.is_some_and(|w| w < last))
            .count();
        assert!(early > 0, "no request was sent before the last start");
    }

    let plain = fan_out(&workload, Poll, None);
    let last = last_start(&plain);
    assert!(
        plain
            .iter()
            .all(|r| r.written_ms.is_some_and(|w| w >= last))
    );
}

/// The fault suite through the batched fan-out on poll.
mod batched_faults {
    testbed::fault_suite!(|w: &testbed::Workload| super::fan_out_batched(
        w,
        step03_select::poll::Poll
    ));
}
// ANCHOR_END: batched_test

// ANCHOR: edge_epoll
/// Exercise 5: the `Epoll` waiter of `src/epoll.rs` with one change, `EPOLLET` in every
/// registration: each readiness is reported once, when it begins.
struct EdgeEpoll {
    epoll: Epoll,
    events: Vec<EpollEvent>,
}

fn edge_event_for<S: Watched>(watched: &S) -> EpollEvent {
    let flags = match watched.wants() {
        Wants::Read => EpollFlags::EPOLLIN,
        Wants::Write => EpollFlags::EPOLLOUT,
    };
    EpollEvent::new(
        flags | EpollFlags::EPOLLET,
        watched.as_fd().as_raw_fd() as u64,
    )
}

impl Waiter for EdgeEpoll {
    fn name(&self) -> &'static str {
        "epoll (edge-triggered)"
    }
    fn added<S: Watched>(&mut self, watched: &S) -> io::Result<()> {
        Ok(self.epoll.add(watched.as_fd(), edge_event_for(watched))?)
    }
    fn changed<S: Watched>(&mut self, watched: &S) -> io::Result<()> {
        let mut event = edge_event_for(watched);
        Ok(self.epoll.modify(watched.as_fd(), &mut event)?)
    }
    fn removed<S: Watched>(&mut self, watched: &S) -> io::Result<()> {
        Ok(self.epoll.delete(watched.as_fd())?)
    }
    fn wait<S: Watched>(
        &mut self,
        watched: &BTreeMap<RawFd, S>,
        timeout: Option<Duration>,
        ready: &mut Vec<RawFd>,
    ) -> io::Result<()> {
        self.events
            .resize(watched.len().clamp(1, 1024), EpollEvent::empty());
        let timeout = timeout.map_or(PollTimeout::NONE, timeout_ms);
        let n = match self.epoll.wait(&mut self.events, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        ready.extend(self.events[..n].iter().map(|e| e.data() as RawFd));
        Ok(())
    }
}

fn edge_epoll() -> EdgeEpoll {
    EdgeEpoll {
        epoll: Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).expect("create an epoll instance"),
        events: Vec::new(),
    }
}

/// The fault suite through `fan_out` on edge-triggered epoll: it passes, because
/// `Connection::visit` always goes on until a "not yet".
mod edge_triggered_faults {
    testbed::fault_suite!(|w: &testbed::Workload| step03_select::fan_out(
        w,
        super::edge_epoll(),
        None
    ));
}

/// 300 connections on edge-triggered epoll, every one with its whole response.
#[test]
fn edge_triggered_fan_out_gets_every_byte() {
    let (_server, workload) = delayed(300);
    let results = fan_out(&workload, edge_epoll(), None);
    let expected = testbed::server::delay_response(Duration::from_millis(20)).len() as u64;
    assert!(
        results
            .iter()
            .enumerate()
            .all(|(id, r)| r.ok && r.id == id && r.bytes == expected)
    );
}
// ANCHOR_END: edge_epoll
