//! The busy-waiting fan-out against the delay server: every byte arrives, the kernel's "not
//! yet" answers are counted, and the fault suite passes.

use std::time::Duration;

use step02_nonblocking::busy_wait;
use testbed::server::delay_response;
use testbed::{ServerConfig, ServerHandle, Target, Workload};

const DELAY_MS: u64 = 20;

/// One and twenty connections all succeed with the exact response, and while the server was
/// thinking the loop heard "not yet" (it never waits, so it must have asked too early).
#[test]
fn busy_wait_succeeds_at_1_and_20() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let expected = delay_response(Duration::from_millis(DELAY_MS)).len() as u64;
    for n in [1, 20] {
        let target = Target::new(server.addr(), format!("/delay/{DELAY_MS}"));
        let outcome = busy_wait(&Workload::uniform(target, n, Duration::from_secs(10)));
        assert_eq!(outcome.results.len(), n);
        for (id, r) in outcome.results.iter().enumerate() {
            assert!(r.ok && r.id == id && r.bytes == expected, "{r:?}");
        }
        assert!(outcome.not_yet > 0 && outcome.passes > 1, "{outcome:?}");
    }
}

/// Connections overlap: all are started before the first one is done.
#[test]
fn busy_wait_connections_overlap() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let target = Target::new(server.addr(), format!("/delay/{DELAY_MS}"));
    let results = busy_wait(&Workload::uniform(target, 20, Duration::from_secs(10))).results;
    testbed::faults::assert_all_started_before_any_finished(&results);
}

testbed::fault_suite!(|w: &testbed::Workload| step02_nonblocking::busy_wait(w).results);
