//! The fan-out on green threads: 100 connections all in progress at once, a pool that keeps
//! at most K in flight, the fault suite, and 10,000 connections end to end through the binary.

use std::process::Command;
use std::time::Duration;

use step07_green_threads::{Options, fan_out};
use testbed::server::delay_response;
use testbed::{RunReport, ServerConfig, ServerHandle, Target, Workload};

/// 100 connections, each a green thread running step 1's blocking code: every one succeeds with
/// every byte, and all were started before any finished.
#[test]
fn a_hundred_green_threads_all_in_flight_at_once() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let workload = Workload::uniform(
        Target::new(server.addr(), "/delay/20"),
        100,
        Duration::from_secs(10),
    );
    let results = fan_out(&workload, Options::default());
    let expected = delay_response(Duration::from_millis(20)).len() as u64;
    assert_eq!(results.len(), 100);
    for (id, r) in results.iter().enumerate() {
        assert!(r.ok && r.id == id && r.bytes == expected, "{r:?}");
    }
    testbed::faults::assert_all_started_before_any_finished(&results);
    assert_eq!(testbed::timeline::peak_in_flight(&results), 100);
}

/// With a pool of 5, never more than 5 connections are in flight, and all 20 succeed.
#[test]
fn a_pool_keeps_at_most_k_in_flight() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let workload = Workload::uniform(
        Target::new(server.addr(), "/delay/20"),
        20,
        Duration::from_secs(10),
    );
    let options = Options {
        limit: Some(5),
        ..Options::default()
    };
    let results = fan_out(&workload, options);
    assert!(results.iter().all(|r| r.ok), "{results:?}");
    assert_eq!(
        testbed::timeline::peak_in_flight(&results),
        5,
        "{results:?}"
    );
}

/// The fault suite, through green threads (its deadlines are socket timeouts, as in step 1,
/// and those are timers of the hub's reactor).
mod faults {
    testbed::fault_suite!(|w: &testbed::Workload| step07_green_threads::fan_out(
        w,
        step07_green_threads::Options::default()
    ));
}

/// 10,000 connections through the binary, against the embedded server in its own process:
/// all succeed, all were in flight at once, and the report says so in JSON.
#[test]
fn ten_thousand_green_threads_through_the_binary() {
    let out = Command::new(env!("CARGO_BIN_EXE_step07-green-threads"))
        .args(["--connections", "10000", "--delay-ms", "50", "--json"])
        .output()
        .expect("run step07-green-threads");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: RunReport = serde_json::from_slice(&out.stdout).expect("one JSON report");
    assert_eq!((report.ok, report.failed), (10_000, 0));
    testbed::faults::assert_all_started_before_any_finished(&report.results);
}
