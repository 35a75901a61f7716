//! The fan-out as callbacks: 100 connections succeed with every byte, and the testbed's fault
//! suite passes (its deadlines are the loop's timers).

use std::time::Duration;

use testbed::server::delay_response;
use testbed::{ServerConfig, ServerHandle, Target, Workload};

/// 100 connections, all ok, each with the exact response, all in progress at once.
#[test]
fn a_hundred_connections_succeed() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let target = Target::new(server.addr(), "/delay/20");
    let results =
        step04_callbacks::fan_out(&Workload::uniform(target, 100, Duration::from_secs(10)));
    let expected = delay_response(Duration::from_millis(20)).len() as u64;
    assert_eq!(results.len(), 100);
    for (id, r) in results.iter().enumerate() {
        assert!(r.ok && r.id == id && r.bytes == expected, "{r:?}");
    }
    testbed::faults::assert_all_started_before_any_finished(&results);
}

testbed::fault_suite!(step04_callbacks::fan_out);
