//! The floor client (`compare::floor`): it reads every response, and it fails a connection
//! the three ways the others do: a status that is not `200`, a refused connect, a deadline.

use std::time::Duration;

use compare::floor::fan_out;
use testbed::{ServerHandle, Target, Workload};

/// Runs the floor on `workload`, failing (not hanging) if it takes more than ten seconds.
fn floor(workload: Workload) -> Vec<testbed::ConnectionResult> {
    testbed::faults::within(Duration::from_secs(10), "the floor's fan-out", move || {
        fan_out(&workload).expect("the floor's epoll instance")
    })
}

/// 200 connections at once, 10 ms delay: every one gets a whole `200` response.
#[test]
fn the_floor_reads_every_response() {
    let server = ServerHandle::start_default().expect("start the delay server");
    let results = floor(Workload::delayed(server.addr(), 200, 10));
    assert_eq!(results.len(), 200);
    for r in &results {
        assert!(r.ok, "{r:?}");
        assert!(r.bytes > 12, "{r:?}");
        assert!(
            r.start_ms <= r.written_ms.unwrap() && r.written_ms <= r.first_byte_ms,
            "{r:?}"
        );
        assert!(r.first_byte_ms.unwrap() <= r.done_ms, "{r:?}");
    }
}

/// A `404` is read to its end, and fails.
#[test]
fn a_status_that_is_not_200_fails() {
    let server = ServerHandle::start_default().expect("start the delay server");
    let target = Target::new(server.addr(), "/nope");
    let results = floor(Workload::uniform(target, 3, Duration::from_secs(5)));
    for r in &results {
        assert!(!r.ok, "{r:?}");
        assert_eq!(r.error.as_deref(), Some("the response's status is not 200"));
    }
}

/// A port nobody listens on: the connect's error comes back (through the write that follows
/// it), and the run ends.
#[test]
fn a_refused_connect_fails_with_its_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let results = floor(Workload::uniform(
        Target::new(addr, "/"),
        3,
        Duration::from_secs(5),
    ));
    for r in &results {
        assert!(!r.ok, "{r:?}");
        let error = r.error.as_deref().unwrap();
        assert!(
            error.starts_with("connect: ") && error.contains("refused"),
            "{r:?}"
        );
    }
}

/// A response slower than the deadline: the connection ends as timed out, at its deadline.
#[test]
fn the_deadline_ends_a_slow_connection() {
    let server = ServerHandle::start_default().expect("start the delay server");
    let target = Target::new(server.addr(), "/delay/5000");
    let results = floor(Workload::uniform(target, 2, Duration::from_millis(200)));
    for r in &results {
        assert_eq!(r.error.as_deref(), Some("timed out"), "{r:?}");
        assert!(r.done_ms - r.start_ms >= 200.0, "{r:?}");
    }
}
