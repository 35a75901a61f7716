//! The two fan-outs of step 1 against the delay server: they succeed with the exact bytes, the
//! sequential one never overlaps its connections, the threaded one does, and a thread that
//! cannot be spawned is a failure of its connection, not a panic.

use step01_blocking::{STACK_SIZE, sequential, threads};
use testbed::{ServerConfig, ServerHandle, Workload};

const DELAY_MS: u64 = 20;

fn server() -> ServerHandle {
    ServerHandle::start(ServerConfig::default()).expect("start the delay server")
}

/// One and twenty sequential connections all succeed with every byte.
#[test]
fn sequential_succeeds_at_1_and_20() {
    let server = server();
    for n in [1, 20] {
        testbed::faults::assert_all_ok(
            &sequential(&Workload::delayed(server.addr(), n, DELAY_MS)),
            n,
            DELAY_MS,
        );
    }
}

/// One and twenty threaded connections all succeed with every byte.
#[test]
fn threads_succeed_at_1_and_20() {
    let server = server();
    for n in [1, 20] {
        testbed::faults::assert_all_ok(
            &threads(&Workload::delayed(server.addr(), n, DELAY_MS), STACK_SIZE),
            n,
            DELAY_MS,
        );
    }
}

/// Sequential means each connection starts only after the previous one is done: the times
/// recorded make a staircase.
#[test]
fn sequential_connections_never_overlap() {
    let server = server();
    let results = sequential(&Workload::delayed(server.addr(), 10, DELAY_MS));
    for pair in results.windows(2) {
        assert!(
            pair[1].start_ms >= pair[0].done_ms,
            "#{} started before #{} was done",
            pair[1].id,
            pair[0].id
        );
    }
}

/// With a thread each, connections wait at the same time: some connection starts before
/// another has finished.
#[test]
fn threaded_connections_overlap() {
    let server = server();
    let results = threads(&Workload::delayed(server.addr(), 20, DELAY_MS), STACK_SIZE);
    let first_done = results
        .iter()
        .map(|r| r.done_ms)
        .fold(f64::INFINITY, f64::min);
    let started_before = results.iter().filter(|r| r.start_ms < first_done).count();
    assert!(
        started_before > 1,
        "no two connections were in progress at once: {results:?}"
    );
}

/// A stack no system can give makes every spawn fail: each connection reports it, and the
/// fan-out returns normally.
#[test]
fn a_thread_that_cannot_be_spawned_fails_its_connection() {
    let server = server();
    let results = threads(&Workload::delayed(server.addr(), 3, DELAY_MS), 1 << 62);
    assert_eq!(results.len(), 3);
    for r in &results {
        assert!(
            !r.ok
                && r.error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("cannot spawn a thread")),
            "{r:?}"
        );
    }
}

/// The testbed's fault suite, through the sequential fan-out.
mod sequential_faults {
    testbed::fault_suite!(step01_blocking::sequential);
}

/// The testbed's fault suite, through the threaded fan-out.
mod threads_faults {
    testbed::fault_suite!(|w: &testbed::Workload| step01_blocking::threads(
        w,
        step01_blocking::STACK_SIZE
    ));
}
