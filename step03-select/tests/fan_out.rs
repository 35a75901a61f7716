//! The fan-out on each of select, poll and epoll: 100 connections succeed with every byte,
//! each connection is announced once as it connects, and the testbed's fault suite passes.

use std::time::Duration;

use step03_select::{fan_out, poll::Poll, select::Select};
use testbed::server::delay_response;
use testbed::{ConnectionResult, ServerConfig, ServerHandle, Target, Workload};

const DELAY_MS: u64 = 20;

fn run(variant: &str, workload: &Workload, progress: &mut Vec<u8>) -> Vec<ConnectionResult> {
    match variant {
        "select" => fan_out(workload, Select, Some(progress)),
        "poll" => fan_out(workload, Poll, Some(progress)),
        #[cfg(target_os = "linux")]
        "epoll" => fan_out(
            workload,
            step03_select::epoll::Epoll::new().unwrap(),
            Some(progress),
        ),
        _ => unreachable!(),
    }
}

fn variants() -> Vec<&'static str> {
    let mut variants = vec!["select", "poll"];
    if cfg!(target_os = "linux") {
        variants.push("epoll");
    }
    variants
}

/// 100 connections per variant: all succeed with the exact response, and the progress shows
/// one "fd N connected to ADDR" line per connection, each descriptor once.
#[test]
fn a_hundred_connections_succeed_on_every_variant() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let expected = delay_response(Duration::from_millis(DELAY_MS)).len() as u64;
    for variant in variants() {
        let target = Target::new(server.addr(), format!("/delay/{DELAY_MS}"));
        let workload = Workload::uniform(target, 100, Duration::from_secs(10));
        let mut progress = Vec::new();
        let results = run(variant, &workload, &mut progress);
        assert_eq!(results.len(), 100, "{variant}");
        for (id, r) in results.iter().enumerate() {
            assert!(
                r.ok && r.id == id && r.bytes == expected,
                "{variant}: {r:?}"
            );
        }
        let progress = String::from_utf8(progress).unwrap();
        let suffix = format!(" connected to {}", server.addr());
        let mut fds: Vec<u32> = progress
            .lines()
            .map(|line| {
                let fd = line
                    .strip_prefix("fd ")
                    .and_then(|l| l.strip_suffix(&suffix));
                fd.and_then(|fd| fd.parse().ok())
                    .unwrap_or_else(|| panic!("{variant}: odd line {line:?}"))
            })
            .collect();
        fds.sort_unstable();
        fds.dedup();
        assert_eq!(
            fds.len(),
            100,
            "{variant}: each connection announced exactly once"
        );
    }
}

/// The fault suite through select.
mod select_faults {
    testbed::fault_suite!(|w: &testbed::Workload| step03_select::fan_out(
        w,
        step03_select::select::Select,
        None
    ));
}

/// The fault suite through poll.
mod poll_faults {
    testbed::fault_suite!(|w: &testbed::Workload| step03_select::fan_out(
        w,
        step03_select::poll::Poll,
        None
    ));
}

/// The fault suite through epoll.
#[cfg(target_os = "linux")]
mod epoll_faults {
    testbed::fault_suite!(|w: &testbed::Workload| {
        step03_select::fan_out(
            w,
            step03_select::epoll::Epoll::new().expect("create an epoll instance"),
            None,
        )
    });
}
