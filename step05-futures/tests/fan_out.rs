//! The fan-out on our own runtime, three ways: 100 connections succeed with every byte, all in
//! progress at once, and the testbed's fault suite passes for each variant (its deadlines are
//! our timers).

use std::time::Duration;

use step05_futures::fan_out;
use testbed::server::delay_response;
use testbed::{ConnectionResult, ServerConfig, ServerHandle, Target, Workload};

fn check_hundred(results: &[ConnectionResult]) {
    let expected = delay_response(Duration::from_millis(20)).len() as u64;
    assert_eq!(results.len(), 100);
    for (id, r) in results.iter().enumerate() {
        assert!(r.ok && r.id == id && r.bytes == expected, "{r:?}");
    }
    testbed::faults::assert_all_started_before_any_finished(results);
}

/// 100 connections per variant.
#[test]
fn a_hundred_connections_succeed_each_way() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let workload = || {
        Workload::uniform(
            Target::new(server.addr(), "/delay/20"),
            100,
            Duration::from_secs(10),
        )
    };
    check_hundred(&fan_out::state_machine(&workload()));
    check_hundred(&fan_out::join_all(&workload()));
    let mut progress = Vec::new();
    check_hundred(&fan_out::unordered(&workload(), Some(&mut progress)));
    let lines = String::from_utf8(progress).unwrap();
    assert_eq!(
        lines.lines().filter(|l| l.ends_with(": ok")).count(),
        100,
        "{lines}"
    );
}

/// The fault suite through the hand-written state machine and JoinAll.
mod state_machine_faults {
    testbed::fault_suite!(step05_futures::fan_out::state_machine);
}

/// The fault suite through `futures::future::join_all`.
mod join_all_faults {
    testbed::fault_suite!(step05_futures::fan_out::join_all);
}

/// The fault suite through `FuturesUnordered`.
mod unordered_faults {
    testbed::fault_suite!(|w: &testbed::Workload| step05_futures::fan_out::unordered(w, None));
}
