//! The worked solutions of chapter 2's exercises ("Step 2: Non-blocking"), as tests against
//! the delay server: a busy loop that pauses, a hung connection asked on every pass, what
//! `connect` answers on loopback, and a loop that asks the kernel which socket can go on.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeValLike;
use step02_nonblocking::connection::{Connection, Visit, Wants};
use step02_nonblocking::sys::{ConnectStart, NonBlockingSocket};
use step02_nonblocking::{BusyWaitOutcome, busy_wait};
use testbed::{ConnectionResult, FetchError, ServerHandle, Target, Workload};

/// The server delay of these tests.
const DELAY_MS: u64 = 20;

/// The size of the shared read buffer, as in `busy_wait`.
const READ_BUFFER: usize = 8 * 1024;

/// `n` connections to `path` on `server`, each with a deadline of `timeout`.
fn workload(server: &ServerHandle, path: &str, n: usize, timeout: Duration) -> Workload {
    Workload::uniform(Target::new(server.addr(), path), n, timeout)
}

/// Asserts that every result failed at its 200 ms deadline while waiting for the response.
fn assert_all_hung(results: &[ConnectionResult], n: usize) {
    assert_eq!(results.len(), n);
    for r in results {
        let reason = r.error.as_deref().unwrap_or_default();
        assert!(
            !r.ok && reason == "timed out after 200 ms while reading the response",
            "{r:?}"
        );
    }
}

/// The CPU time (user and system) the calling thread has used so far, in milliseconds.
fn thread_cpu_ms() -> f64 {
    let usage = getrusage(UsageWho::RUSAGE_THREAD).expect("getrusage(RUSAGE_THREAD)");
    (usage.user_time().num_microseconds() + usage.system_time().num_microseconds()) as f64 / 1e3
}

/// Runs `fan_out` on a fresh workload and prints its passes, "not yet"s, wall and CPU time.
fn measured(
    name: &str,
    workload: Workload,
    fan_out: impl FnOnce(&Workload) -> BusyWaitOutcome,
) -> BusyWaitOutcome {
    let cpu_before = thread_cpu_ms();
    let outcome = fan_out(&workload);
    let (wall, cpu) = (workload.clock.elapsed_ms(), thread_cpu_ms() - cpu_before);
    println!(
        "{name}: {} passes, {} not yet, wall {wall:.1} ms, cpu {cpu:.1} ms",
        outcome.passes, outcome.not_yet
    );
    outcome
}

// ANCHOR: pause
/// `busy_wait` with one line more: a `pause` after every pass.
pub fn busy_wait_with_pause(workload: &Workload, pause: Duration) -> BusyWaitOutcome {
    let mut results = Vec::with_capacity(workload.len());
    let mut in_flight = Vec::with_capacity(workload.len());
    for id in 0..workload.len() {
        match Connection::start(workload, id) {
            Ok(connection) => in_flight.push(connection),
            Err(failed) => results.push(failed),
        }
    }
    let mut buf = vec![0u8; READ_BUFFER];
    let (mut not_yet, mut passes) = (0, 0);
    while !in_flight.is_empty() {
        passes += 1;
        let mut still_in_flight = Vec::with_capacity(in_flight.len());
        for mut connection in in_flight {
            match connection.visit(&mut buf) {
                Ok(Visit::NotYet) => {
                    not_yet += 1;
                    still_in_flight.push(connection);
                }
                Ok(Visit::Finished) => results.push(connection.finish(Ok(()))),
                Err(e) => results.push(connection.finish(Err(e))),
            }
        }
        in_flight = still_in_flight;
        // The new line: give the core back for a while before asking everyone again.
        std::thread::sleep(pause);
    }
    results.sort_by_key(|r| r.id);
    BusyWaitOutcome {
        results,
        not_yet,
        passes,
    }
}

/// Exercise 1: with a 1 ms pause after each pass, every connection still succeeds, and there
/// can be no more passes than milliseconds in the run (plus the last one). Run with
/// `--nocapture` to compare passes and CPU time with the loop that never pauses.
#[test]
fn a_pause_after_each_pass_caps_the_passes() {
    let server = ServerHandle::start_default().unwrap();
    let path = format!("/delay/{DELAY_MS}");
    let work = || workload(&server, &path, 100, Duration::from_secs(10));
    let busy = measured("busy", work(), busy_wait);
    let paused = measured("paused", work(), |w| {
        busy_wait_with_pause(w, Duration::from_millis(1))
    });
    testbed::faults::assert_all_ok(&busy.results, 100, DELAY_MS);
    testbed::faults::assert_all_ok(&paused.results, 100, DELAY_MS);

    // Every pass before the one that finished the last connection was followed by >= 1 ms.
    let last_done = paused.results.iter().map(|r| r.done_ms).fold(0.0, f64::max);
    assert!(
        paused.passes >= 2 && (paused.passes - 1) as f64 <= last_done,
        "{} passes in {last_done} ms",
        paused.passes
    );
}
// ANCHOR_END: pause

// ANCHOR: hang
/// Exercise 3: a connection to a server that never answers is asked again on every pass until
/// its deadline: each pass but the last hears "not yet". The busy loop makes many more passes
/// in the same time than the loop that pauses 1 ms between them.
#[test]
fn a_hung_connection_is_asked_on_every_pass() {
    let server = ServerHandle::start_default().unwrap();
    let timeout = Duration::from_millis(200);
    let busy = measured(
        "busy",
        workload(&server, "/chaos/hang", 1, timeout),
        busy_wait,
    );
    assert_all_hung(&busy.results, 1);
    assert_eq!(busy.not_yet, busy.passes - 1, "{busy:?}");

    let paused = measured(
        "paused",
        workload(&server, "/chaos/hang", 1, timeout),
        |w| busy_wait_with_pause(w, Duration::from_millis(1)),
    );
    assert_all_hung(&paused.results, 1);
    assert!(busy.passes > paused.passes, "{busy:?} {paused:?}");
}
// ANCHOR_END: hang

// ANCHOR: connect_answers
/// Exercise 4: on Linux, `connect` on a non-blocking TCP socket answers `EINPROGRESS` every
/// time, even on loopback. Run with `--nocapture` to also see how many of those handshakes
/// were over by the time `connect` had returned.
#[test]
fn connect_on_loopback_is_always_in_progress() {
    let server = ServerHandle::start_default().unwrap();
    let addr = server.addr();
    let (mut connected, mut in_progress, mut up_at_first_look) = (0, 0, 0);
    for _ in 0..1000 {
        let socket = NonBlockingSocket::new(&addr).unwrap();
        match socket.connect(&addr).unwrap() {
            ConnectStart::Connected => connected += 1,
            ConnectStart::InProgress => in_progress += 1,
        }
        if socket.peer_addr().unwrap().is_some() {
            up_at_first_look += 1;
        }
        // Dropping the socket closes it: one descriptor at a time is enough.
    }
    println!(
        "Connected {connected}, InProgress {in_progress}, connected at the first look {up_at_first_look}"
    );
    assert_eq!(connected + in_progress, 1000);
    if cfg!(target_os = "linux") {
        assert_eq!(in_progress, 1000);
    }
}
// ANCHOR_END: connect_answers

// ANCHOR: wait_ready
/// The call exercise 5 asks for: "here are my sockets and what each one waits for; put me to
/// sleep until at least one of them can go on, or until `deadline`". Returns the positions in
/// `interest` of the sockets that can go on: none if the deadline came first.
// ANCHOR: wait_ready_signature
pub fn wait_ready(
    interest: &[(BorrowedFd<'_>, Wants)],
    deadline: Option<Instant>,
) -> io::Result<Vec<usize>> {
    // ANCHOR_END: wait_ready_signature
    // One answer exists already: poll(2), which step 3 meets with its siblings.
    let mut fds: Vec<PollFd<'_>> = interest
        .iter()
        .map(|(fd, wants)| {
            let events = match wants {
                Wants::Read => PollFlags::POLLIN,
                Wants::Write => PollFlags::POLLOUT,
            };
            PollFd::new(*fd, events)
        })
        .collect();
    let timeout = match deadline {
        None => PollTimeout::NONE,
        Some(deadline) => {
            // Whole milliseconds, rounded up: wake at the deadline or just after, not before.
            let left = deadline.saturating_duration_since(Instant::now());
            PollTimeout::try_from(left.as_micros().div_ceil(1000)).unwrap_or(PollTimeout::MAX)
        }
    };
    match poll(&mut fds, timeout) {
        Ok(_) => {}
        // A signal woke us: nothing is ready, the caller asks again.
        Err(Errno::EINTR) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    }
    // Ready includes errors and hang-ups: a visit is how the connection finds out which.
    Ok(fds
        .iter()
        .enumerate()
        .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
        .map(|(i, _)| i)
        .collect())
}

/// The fan-out of this step with `wait_ready` in front of every pass: it sleeps until some
/// connection can go on (or the first deadline), visits only those, and fails the connections
/// whose deadline has passed. `not_yet` and `passes` count as in `busy_wait`.
pub fn ask_the_kernel(workload: &Workload) -> BusyWaitOutcome {
    let mut results = Vec::with_capacity(workload.len());
    let mut in_flight = Vec::with_capacity(workload.len());
    for id in 0..workload.len() {
        match Connection::start(workload, id) {
            Ok(connection) => in_flight.push(connection),
            Err(failed) => results.push(failed),
        }
    }
    let mut buf = vec![0u8; READ_BUFFER];
    let (mut not_yet, mut passes) = (0, 0);
    while !in_flight.is_empty() {
        passes += 1;
        let interest: Vec<_> = in_flight.iter().map(|c| (c.as_fd(), c.wants())).collect();
        let first_deadline = in_flight.iter().map(Connection::deadline).min();
        let ready = match wait_ready(&interest, first_deadline) {
            Ok(ready) => ready,
            Err(e) => {
                let why = format!("cannot wait for the sockets: {e}");
                for connection in in_flight {
                    results.push(connection.finish(Err(FetchError::Setup(why.clone()))));
                }
                break;
            }
        };
        drop(interest);
        let mut still_in_flight = Vec::with_capacity(in_flight.len());
        for (i, mut connection) in in_flight.into_iter().enumerate() {
            if ready.binary_search(&i).is_ok() {
                match connection.visit(&mut buf) {
                    Ok(Visit::NotYet) => {
                        not_yet += 1;
                        still_in_flight.push(connection);
                    }
                    Ok(Visit::Finished) => results.push(connection.finish(Ok(()))),
                    Err(e) => results.push(connection.finish(Err(e))),
                }
            } else if Instant::now() >= connection.deadline() {
                let e = connection.timed_out();
                results.push(connection.finish(Err(e)));
            } else {
                still_in_flight.push(connection);
            }
        }
        in_flight = still_in_flight;
    }
    results.sort_by_key(|r| r.id);
    BusyWaitOutcome {
        results,
        not_yet,
        passes,
    }
}

/// Exercise 5: asked first, the kernel sends the loop only to connections that can go on. Each
/// good connection hears "not yet" at most twice (once waiting for the answer, perhaps once
/// more between the answer and the end-of-file); each hung one exactly once, and then costs
/// nothing until its deadline.
#[test]
fn asking_the_kernel_visits_only_connections_that_can_go_on() {
    let server = ServerHandle::start_default().unwrap();
    let n = 20;
    let path = format!("/delay/{DELAY_MS}");
    let good = measured(
        "good",
        workload(&server, &path, n, Duration::from_secs(10)),
        ask_the_kernel,
    );
    testbed::faults::assert_all_ok(&good.results, n, DELAY_MS);
    assert!(good.not_yet <= 2 * n as u64, "{good:?}");

    let timeout = Duration::from_millis(200);
    let hung = measured(
        "hung",
        workload(&server, "/chaos/hang", n, timeout),
        ask_the_kernel,
    );
    assert_all_hung(&hung.results, n);
    assert_eq!(hung.not_yet, n as u64, "{hung:?}");
}
// ANCHOR_END: wait_ready
