//! The fault suite: the same misbehaving servers for every step's fan-out.
//!
//! A fan-out is anything of the shape `Fn(&Workload) -> Vec<ConnectionResult>`. Each check
//! starts its own delay server on a thread, runs the fan-out against one of the chaos paths
//! (or a port with nothing listening) and asserts what a correct client must report. Every
//! check also asserts that the fan-out returned exactly one result per connection, and it runs
//! the fan-out under a watchdog, so a client that hangs fails the test instead of hanging it.
//!
//! A step's `tests/faults.rs` runs the whole suite with one line:
//!
//! ```ignore
//! testbed::fault_suite!(|workload: &testbed::Workload| step01_blocking::sequential(workload));
//! ```

use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::time::Duration;

use crate::record::ConnectionResult;
use crate::response::DEFAULT_BODY_LIMIT;
use crate::server::{DRIP_RESPONSE, ServerConfig, ServerHandle};
use crate::workload::{Target, Workload};

/// How long a fan-out may run before the suite calls it hung. Far above anything the checks
/// need (the slowest, a sequential client through the mixed run, takes a few seconds).
const WATCHDOG: Duration = Duration::from_secs(120);

/// The delay of the good connections in the checks.
const GOOD_DELAY_MS: u64 = 20;

/// The per-connection timeout of the hang check.
const HANG_TIMEOUT: Duration = Duration::from_millis(300);

/// The per-connection timeout of the other checks: generous, since only `/chaos/hang` should
/// ever reach it.
const TIMEOUT: Duration = Duration::from_secs(5);

/// An address with nothing listening: bind a port, note it, close it. The kernel will not hand
/// it out again at once, so a connect there is refused.
pub fn refused_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a probe port on 127.0.0.1");
    let addr = listener.local_addr().expect("read the probe port");
    drop(listener);
    addr
}

/// Starts the suite's delay server on a thread.
fn server() -> ServerHandle {
    let config = ServerConfig {
        default_delay: Duration::from_millis(GOOD_DELAY_MS),
        ..ServerConfig::default()
    };
    ServerHandle::start(config).expect("start the fault suite's delay server")
}

/// Runs `run` on a thread of its own and waits at most `limit` for its result: a test's guard
/// against hangs (a lost wake-up fails the test instead of hanging it), not a timing check.
/// A panic in `run` is resumed here; running out of time panics, naming `what` did not finish.
pub fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    run: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("{what} did not finish within {limit:?}"),
    }
}

/// Runs `fan_out` on its own thread under the watchdog, then checks that every connection has
/// exactly one result, and returns them sorted by id.
pub fn run_watched<F>(fan_out: F, workload: Workload) -> Vec<ConnectionResult>
where
    F: FnOnce(&Workload) -> Vec<ConnectionResult> + Send + 'static,
{
    let n = workload.len();
    let mut results = within(
        WATCHDOG,
        "the fan-out (a connection hangs, or a failure stopped the others)",
        move || fan_out(&workload),
    );
    results.sort_by_key(|r| r.id);
    let ids: Vec<usize> = results.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        (0..n).collect::<Vec<_>>(),
        "the fan-out must return exactly one result per connection, ids 0..{n}"
    );
    results
}

/// Asserts that `r` failed with an error containing `needle`.
fn assert_failed(r: &ConnectionResult, needle: &str) {
    let error = r.error.as_deref().unwrap_or("");
    assert!(
        !r.ok && error.contains(needle),
        "connection #{} should fail with {needle:?}, got {r:?}",
        r.id
    );
}

/// Asserts that `r` succeeded with sensible times and some bytes.
fn assert_ok(r: &ConnectionResult) {
    assert!(
        r.ok && r.error.is_none(),
        "connection #{} should succeed, got {r:?}",
        r.id
    );
    let marks = [
        Some(r.start_ms),
        r.connected_ms,
        r.written_ms,
        r.first_byte_ms,
        Some(r.done_ms),
    ];
    assert!(
        marks.iter().all(Option::is_some),
        "connection #{} lacks a time: {r:?}",
        r.id
    );
    let marks: Vec<f64> = marks.into_iter().flatten().collect();
    assert!(
        marks.windows(2).all(|w| w[0] <= w[1]),
        "connection #{}'s times are out of order: {r:?}",
        r.id
    );
    assert!(
        r.bytes > 0,
        "connection #{} succeeded without bytes: {r:?}",
        r.id
    );
}

/// Asserts that a run of `n` connections to `/delay/{delay_ms}` succeeded: every result is
/// there, in id order, a success with the whole response.
pub fn assert_all_ok(results: &[ConnectionResult], n: usize, delay_ms: u64) {
    let expected = crate::server::delay_response(Duration::from_millis(delay_ms)).len() as u64;
    assert_eq!(results.len(), n, "one result per connection");
    for (id, r) in results.iter().enumerate() {
        assert_eq!(r.id, id, "results in id order");
        assert!(r.ok, "{r:?}");
        assert_eq!(
            r.bytes, expected,
            "connection #{id} must receive the whole response"
        );
    }
}

/// Asserts that the connections of a run were all in progress at once: every one started before
/// the first one finished. (What a concurrent fan-out does, and a sequential one cannot.)
pub fn assert_all_started_before_any_finished(results: &[ConnectionResult]) {
    let first_done = results
        .iter()
        .map(|r| r.done_ms)
        .fold(f64::INFINITY, f64::min);
    let late: Vec<usize> = results
        .iter()
        .filter(|r| r.start_ms > first_done)
        .map(|r| r.id)
        .collect();
    assert!(
        late.is_empty(),
        "connections {late:?} started after the first one had finished at {first_done} ms"
    );
}

/// Ten good connections all succeed, with ordered times.
pub fn all_succeed<F>(fan_out: F)
where
    F: FnOnce(&Workload) -> Vec<ConnectionResult> + Send + 'static,
{
    let server = server();
    let target = Target::new(server.addr(), format!("/delay/{GOOD_DELAY_MS}"));
    for r in run_watched(fan_out, Workload::uniform(target, 10, TIMEOUT)) {
        assert_ok(&r);
    }
}

/// Connections to a port with nothing listening fail with "connection refused".
pub fn refused<F>(fan_out: F)
where
    F: FnOnce(&Workload) -> Vec<ConnectionResult> + Send + 'static,
{
    let target = Target::new(refused_addr(), "/");
    for r in run_watched(fan_out, Workload::uniform(target, 3, TIMEOUT)) {
        assert_failed(&r, "refused");
    }
}

/// A server that resets the connection after the request: "connection reset".
pub fn reset<F>(fan_out: F)
where
    F: FnOnce(&Workload) -> Vec<ConnectionResult> + Send + 'static,
{
    let server = server();
    let target = Target::new(server.addr(), "/chaos/reset");
    for r in run_watched(fan_out, Workload::uniform(target, 3, TIMEOUT)) {
        assert_failed(&r, "reset");
    }
}

/// A server that never answers: the connection fails with "timed out", and not before its
/// deadline.
pub fn hang<F>(fan_out: F)
where
    F: FnOnce(&Workload) -> Vec<ConnectionResult> + Send + 'static,
{
    let server = server();
    let target = Target::new(server.addr(), "/chaos/hang");
    for r in run_watched(fan_out, Workload::uniform(target, 3, HANG_TIMEOUT)) {
        assert_failed(&r, "timed out");
        let lasted = r.done_ms - r.start_ms;
        assert!(
            lasted >= HANG_TIMEOUT.as_secs_f64() * 1e3 - 1.0,
            "#{} gave up after {lasted} ms",
            r.id
        );
    }
}

/// A response that arrives one byte at a time is still a whole, good response.
pub fn drip<F>(fan_out: F)
where
    F: FnOnce(&Workload) -> Vec<ConnectionResult> + Send + 'static,
{
    let server = server();
    let target = Target::new(server.addr(), "/chaos/drip");
    for r in run_watched(fan_out, Workload::uniform(target, 3, TIMEOUT)) {
        assert_ok(&r);
        assert_eq!(
            r.bytes,
            DRIP_RESPONSE.len() as u64,
            "#{} must receive every dripped byte",
            r.id
        );
    }
}

/// A body shorter than its Content-Length: "truncated response: got X of Y bytes".
pub fn short<F>(fan_out: F)
where
    F: FnOnce(&Workload) -> Vec<ConnectionResult> + Send + 'static,
{
    let server = server();
    let target = Target::new(server.addr(), "/chaos/short");
    for r in run_watched(fan_out, Workload::uniform(target, 3, TIMEOUT)) {
        assert_failed(&r, "truncated response: got 100 of 1000 bytes");
    }
}

/// A body far over the limit: "response too large", and the client stops reading soon after
/// the limit instead of taking all of it.
pub fn huge<F>(fan_out: F)
where
    F: FnOnce(&Workload) -> Vec<ConnectionResult> + Send + 'static,
{
    let server = server();
    let target = Target::new(server.addr(), "/chaos/huge");
    for r in run_watched(fan_out, Workload::uniform(target, 2, TIMEOUT)) {
        assert_failed(&r, "response too large");
        let slack = 256 * 1024;
        assert!(
            r.bytes <= (DEFAULT_BODY_LIMIT + slack) as u64,
            "#{} read {} bytes: it must stop soon after the {DEFAULT_BODY_LIMIT}-byte limit",
            r.id,
            r.bytes
        );
    }
}

/// A status other than 200 is a failure that names the status.
pub fn not_found<F>(fan_out: F)
where
    F: FnOnce(&Workload) -> Vec<ConnectionResult> + Send + 'static,
{
    let server = server();
    let target = Target::new(server.addr(), "/no/such/path");
    for r in run_watched(fan_out, Workload::uniform(target, 2, TIMEOUT)) {
        assert_failed(&r, "HTTP status 404");
    }
}

/// Good and bad connections in one fan-out: every good one still succeeds, every bad one fails
/// with its own reason, and nothing is lost.
pub fn mixed<F>(fan_out: F)
where
    F: FnOnce(&Workload) -> Vec<ConnectionResult> + Send + 'static,
{
    let server = server();
    let (good, refused) = (format!("/delay/{GOOD_DELAY_MS}"), refused_addr());
    let kinds: [(&str, Option<&str>); 7] = [
        ("/chaos/reset", Some("reset")),
        ("refused", Some("refused")),
        ("/chaos/hang", Some("timed out")),
        ("/chaos/short", Some("truncated response")),
        ("/chaos/huge", Some("response too large")),
        ("/chaos/drip", None),
        ("/nope", Some("HTTP status 404")),
    ];
    // good, bad, good, bad, ... twice over: 28 connections.
    let mut targets = Vec::new();
    let mut expected = Vec::new();
    for (path, failure) in kinds.iter().chain(kinds.iter()) {
        targets.push(Target::new(server.addr(), good.clone()));
        expected.push(None);
        let addr = if *path == "refused" {
            refused
        } else {
            server.addr()
        };
        targets.push(Target::new(addr, *path));
        expected.push(*failure);
    }
    // Long enough for the drip and the good ones, short enough that the two hangs do not
    // make a sequential client slow.
    let workload = Workload::mixed(targets, Duration::from_secs(2));
    for (r, expected) in run_watched(fan_out, workload).iter().zip(expected) {
        match expected {
            None => assert_ok(r),
            Some(needle) => assert_failed(r, needle),
        }
    }
}

/// Generates one `#[test]` per fault-suite check for a fan-out expression of type
/// `Fn(&Workload) -> Vec<ConnectionResult> + Send + 'static` (a function or a closure).
#[macro_export]
macro_rules! fault_suite {
    ($fan_out:expr) => {
        /// Ten good connections all succeed, with their times in order.
        #[test]
        fn fault_suite_all_succeed() {
            $crate::faults::all_succeed($fan_out);
        }
        /// A port with nothing listening: "connection refused".
        #[test]
        fn fault_suite_refused() {
            $crate::faults::refused($fan_out);
        }
        /// A reset after the request: "connection reset".
        #[test]
        fn fault_suite_reset() {
            $crate::faults::reset($fan_out);
        }
        /// A server that never answers: "timed out" at the deadline, not before.
        #[test]
        fn fault_suite_hang() {
            $crate::faults::hang($fan_out);
        }
        /// One byte at a time is still a good response.
        #[test]
        fn fault_suite_drip() {
            $crate::faults::drip($fan_out);
        }
        /// A body short of its Content-Length: "truncated response".
        #[test]
        fn fault_suite_short() {
            $crate::faults::short($fan_out);
        }
        /// A body over the limit: "response too large", reading stops.
        #[test]
        fn fault_suite_huge() {
            $crate::faults::huge($fan_out);
        }
        /// A 404 is a failure naming the status.
        #[test]
        fn fault_suite_not_found() {
            $crate::faults::not_found($fan_out);
        }
        /// Good and bad connections in one fan-out: the good ones still succeed.
        #[test]
        fn fault_suite_mixed() {
            $crate::faults::mixed($fan_out);
        }
    };
}
