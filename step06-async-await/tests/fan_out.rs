//! The async fan-out on both runtimes: 100 connections succeed with every byte, the testbed's
//! fault suite passes on both, the semaphore never admits more than K, and a blocking task
//! stalls everyone unless its blocking goes to the pool.

use std::time::Duration;

use step06_async_await::{Blocking, Options, fan_out, on_tokio};
use testbed::{ServerConfig, ServerHandle, Workload};

/// 100 connections on each runtime: all ok, all in progress at once.
#[test]
fn a_hundred_connections_succeed_on_both_runtimes() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    for results in [
        fan_out(
            &Workload::delayed(server.addr(), 100, 20),
            Options::default(),
        )
        .results,
        on_tokio::fan_out(
            &Workload::delayed(server.addr(), 100, 20),
            Options::default(),
        )
        .results,
    ] {
        testbed::faults::assert_all_ok(&results, 100, 20);
        testbed::faults::assert_all_started_before_any_finished(&results);
    }
}

/// With `limit: 5`, never more than 5 connections are in progress at once, on either runtime,
/// and all 30 still succeed.
#[test]
fn the_semaphore_never_admits_more_than_k() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let options = Options {
        limit: Some(5),
        ..Options::default()
    };
    for results in [
        fan_out(&Workload::delayed(server.addr(), 30, 10), options).results,
        on_tokio::fan_out(&Workload::delayed(server.addr(), 30, 10), options).results,
    ] {
        testbed::faults::assert_all_ok(&results, 30, 10);
        assert!(
            testbed::timeline::peak_in_flight(&results) <= 5,
            "peak {}",
            testbed::timeline::peak_in_flight(&results)
        );
        assert_eq!(
            testbed::timeline::peak_in_flight(&results),
            5,
            "the limit is used, not just respected"
        );
    }
}

/// A task that blocks the loop's thread for 300 ms stalls every connection: none can finish
/// before the blocking ends, although their answers came after 20 ms. On the blocking pool,
/// the others finish while it is still blocking.
#[test]
fn blocking_the_loop_stalls_everyone_and_the_pool_does_not() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let block = |on_pool| Options {
        block: Some(Blocking {
            duration: Duration::from_millis(300),
            on_pool,
        }),
        ..Options::default()
    };
    type Run = fn(&Workload, Options) -> step06_async_await::FanOut;
    for run in [fan_out as Run, on_tokio::fan_out as Run] {
        let stalled = run(&Workload::delayed(server.addr(), 20, 20), block(false));
        let (_, until) = stalled.blocked.expect("the blocking task ran");
        testbed::faults::assert_all_ok(&stalled.results, 20, 20);
        assert!(
            stalled.results.iter().all(|r| r.done_ms >= until),
            "a connection finished while the loop was blocked"
        );

        let free = run(&Workload::delayed(server.addr(), 20, 20), block(true));
        let (_, until) = free.blocked.expect("the blocking task ran");
        testbed::faults::assert_all_ok(&free.results, 20, 20);
        assert!(
            free.results.iter().all(|r| r.done_ms < until),
            "the pool should leave the loop free"
        );
    }
}

/// The fault suite on our runtime.
mod ours_faults {
    testbed::fault_suite!(|w| step06_async_await::fan_out(w, Default::default()).results);
}

/// The fault suite on tokio.
mod tokio_faults {
    testbed::fault_suite!(|w| step06_async_await::on_tokio::fan_out(w, Default::default()).results);
}
