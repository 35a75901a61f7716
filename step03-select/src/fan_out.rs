//! The fan-out of step 2, with its busy loop replaced by one call that sleeps until the kernel
//! has news: the talk's `select` program.
//!
//! The connections are step 2's [`Connection`] state machines, unchanged, kept in a map keyed by
//! their descriptor number. The only new thing is *when* a connection is visited: only after a
//! waiter ([`Select`](crate::select::Select), [`Poll`](crate::poll::Poll) or `Epoll`) has said
//! that its socket is ready for what it wants.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::fd::RawFd;
use std::time::Instant;

use step02_nonblocking::connection::{Connection, Visit};
use testbed::{ConnectionResult, FetchError, Outcome, Plan, Stage, Variant, Workload};

use crate::waiter::Waiter;

/// The size of the read buffer shared by all connections.
const READ_BUFFER: usize = 8 * 1024;

/// The state of one run: the connections in flight, their deadlines, the waiter, the results.
struct FanOut<'out, W> {
    /// The connections not finished yet, by descriptor number (the talk's `sockets` dict).
    connections: BTreeMap<RawFd, Connection>,
    /// (deadline, descriptor) of every connection in flight, earliest first: the first entry
    /// bounds how long a wait may sleep.
    deadlines: BTreeSet<(Instant, RawFd)>,
    /// The readiness API.
    waiter: W,
    /// Finished connections.
    results: Vec<ConnectionResult>,
    /// Where to print "fd N connected to ADDR" lines, if anywhere.
    progress: Option<&'out mut dyn Write>,
}

impl<W: Waiter> FanOut<'_, W> {
    /// Starts connection `id` and puts it under watch.
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

    /// Takes connection `fd` out of the watched set and records how it ended.
    fn retire(&mut self, fd: RawFd, outcome: Result<(), FetchError>) {
        if let Some(connection) = self.connections.remove(&fd) {
            self.deadlines.remove(&(connection.deadline(), fd));
            // Failing to unregister changes nothing for the result: the socket is closed next.
            let _ = self.waiter.removed(&connection);
            self.results.push(connection.finish(outcome));
        }
    }

    // ANCHOR: on_ready
    /// The kernel said `fd` is ready: let its connection go as far as it can.
    fn on_ready(&mut self, fd: RawFd, buf: &mut [u8]) {
        let Some(connection) = self.connections.get_mut(&fd) else {
            return;
        };
        let (wanted, was_connected) = (connection.wants(), connection.peer().is_some());
        // Ready is a hint, not a promise: visit() still takes "not yet" in its stride.
        let visited = connection.visit(buf);
        if let (false, Some(peer), Some(out)) =
            (was_connected, connection.peer(), self.progress.as_mut())
        {
            let _ = writeln!(out, "fd {fd} connected to {peer}");
        }
        match visited {
            Ok(Visit::NotYet) if connection.wants() == wanted => {}
            // It now waits for the other direction (written all, wants to read): say so.
            Ok(Visit::NotYet) => {
                if let Err(e) = self.waiter.changed(connection) {
                    let stage = if connection.peer().is_some() {
                        Stage::Read
                    } else {
                        Stage::Connect
                    };
                    self.retire(fd, Err(FetchError::io(stage, e)));
                }
            }
            Ok(Visit::Finished) => self.retire(fd, Ok(())),
            Err(e) => self.retire(fd, Err(e)),
        }
    }
    // ANCHOR_END: on_ready

    /// Fails every connection whose deadline has passed, ready or not.
    fn expire(&mut self, now: Instant) {
        while let Some(&(deadline, fd)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            let error = self.connections.get(&fd).map(Connection::timed_out);
            match error {
                Some(error) => self.retire(fd, Err(error)),
                None => {
                    self.deadlines.pop_first();
                }
            }
        }
    }
}

// ANCHOR: fan_out
/// Starts every connection, then sleeps in the waiter until some are ready, visits those, and
/// repeats until all are done. `progress` gets a line for each connection as it connects.
pub fn fan_out<W: Waiter>(
    workload: &Workload,
    waiter: W,
    progress: Option<&mut dyn Write>,
) -> Vec<ConnectionResult> {
    let mut run = FanOut {
        connections: BTreeMap::new(),
        deadlines: BTreeSet::new(),
        waiter,
        results: Vec::with_capacity(workload.len()),
        progress,
    };
    for id in 0..workload.len() {
        run.start(workload, id);
    }
    let (mut ready, mut buf) = (Vec::new(), vec![0u8; READ_BUFFER]);
    while !run.connections.is_empty() {
        // Sleep until the kernel has news, but not past the nearest deadline.
        let timeout = run
            .deadlines
            .first()
            .map(|(deadline, _)| deadline.saturating_duration_since(Instant::now()));
        ready.clear();
        if let Err(e) = run.waiter.wait(&run.connections, timeout, &mut ready) {
            // The wait itself failed: no connection can make progress any more.
            let name = run.waiter.name();
            for fd in run.connections.keys().copied().collect::<Vec<_>>() {
                run.retire(fd, Err(FetchError::Setup(format!("{name}() failed: {e}"))));
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
// ANCHOR_END: fan_out

// ANCHOR: variants
/// This step's fan-outs, one per waiter, as the binary and `compare` run them (without the
/// "fd N connected" lines). `select` cannot run a plan whose descriptors pass FD_SETSIZE.
pub fn variants() -> Vec<Variant> {
    let mut variants = vec![
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "select",
            about: "select(2): at most FD_SETSIZE (1024) descriptors",
            fan_out: |w| fan_out(w, crate::select::Select, None).into(),
            cannot_run: past_fd_setsize,
        },
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "poll",
            about: "poll(2)",
            fan_out: |w| fan_out(w, crate::poll::Poll, None).into(),
            cannot_run: testbed::variants::always,
        },
    ];
    variants.extend(epoll_variant());
    variants
}
// ANCHOR_END: variants

/// The epoll variant, where there is epoll (Linux).
fn epoll_variant() -> Option<Variant> {
    #[cfg(target_os = "linux")]
    return Some(Variant {
        step: env!("CARGO_PKG_NAME"),
        variant: "epoll",
        about: "epoll(7) (Linux)",
        fan_out: |w| match crate::epoll::Epoll::new() {
            Ok(epoll) => fan_out(w, epoll, None).into(),
            Err(e) => Outcome::from(w.all_failed(&FetchError::Setup(format!(
                "cannot create an epoll instance: {e}"
            )))),
        },
        cannot_run: testbed::variants::always,
    });
    #[cfg(not(target_os = "linux"))]
    None
}

/// select() cannot watch descriptor numbers past FD_SETSIZE.
fn past_fd_setsize(plan: &Plan) -> Option<String> {
    crate::select::check_capacity(plan.connections)
        .err()
        .map(|_| {
            format!(
                "select() cannot watch descriptors numbered {} or more (FD_SETSIZE)",
                nix::sys::select::FD_SETSIZE
            )
        })
}
