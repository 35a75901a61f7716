//! The async fan-out on both runtimes: 100 connections succeed with every byte, the testbed's
//! fault suite passes on both, the semaphore never admits more than K, and a blocking task
//! stalls everyone unless its blocking goes to the pool.

use std::time::Duration;

use step06_async_await::{Blocking, Options, fan_out, on_tokio};
use testbed::server::delay_response;
use testbed::{ConnectionResult, ServerConfig, ServerHandle, Target, Workload};

fn workload(server: &ServerHandle, n: usize, delay_ms: u64) -> Workload {
    Workload::uniform(
        Target::new(server.addr(), format!("/delay/{delay_ms}")),
        n,
        Duration::from_secs(10),
    )
}

fn assert_all_ok(results: &[ConnectionResult], n: usize, delay_ms: u64) {
    let expected = delay_response(Duration::from_millis(delay_ms)).len() as u64;
    assert_eq!(results.len(), n);
    for (id, r) in results.iter().enumerate() {
        assert!(r.ok && r.id == id && r.bytes == expected, "{r:?}");
    }
}

/// 100 connections on each runtime: all ok, all in progress at once.
#[test]
fn a_hundred_connections_succeed_on_both_runtimes() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    for results in [
        fan_out(&workload(&server, 100, 20), Options::default()).results,
        on_tokio::fan_out(&workload(&server, 100, 20), Options::default()).results,
    ] {
        assert_all_ok(&results, 100, 20);
        testbed::faults::assert_all_started_before_any_finished(&results);
    }
}

/// The most connections in progress at one moment, from the recorded times.
fn peak_in_flight(results: &[ConnectionResult]) -> usize {
    let mut events: Vec<(f64, i32)> = results
        .iter()
        .flat_map(|r| [(r.start_ms, 1), (r.done_ms, -1)])
        .collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    events
        .iter()
        .scan(0, |now, (_, change)| {
            *now += change;
            Some(*now)
        })
        .max()
        .unwrap_or(0) as usize
}

/// With `limit: 5`, never more than 5 connections are in progress at once, on either runtime,
/// and all 30 still succeed.
#[test]
fn the_semaphore_never_admits_more_than_k() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let options = Options {
        limit: Some(5),
        block: None,
    };
    for results in [
        fan_out(&workload(&server, 30, 10), options).results,
        on_tokio::fan_out(&workload(&server, 30, 10), options).results,
    ] {
        assert_all_ok(&results, 30, 10);
        assert!(
            peak_in_flight(&results) <= 5,
            "peak {}",
            peak_in_flight(&results)
        );
        assert_eq!(
            peak_in_flight(&results),
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
        limit: None,
        block: Some(Blocking {
            duration: Duration::from_millis(300),
            on_pool,
        }),
    };
    type Run = fn(&Workload, Options) -> step06_async_await::FanOut;
    for run in [fan_out as Run, on_tokio::fan_out as Run] {
        let stalled = run(&workload(&server, 20, 20), block(false));
        let (_, until) = stalled.blocked.expect("the blocking task ran");
        assert_all_ok(&stalled.results, 20, 20);
        assert!(
            stalled.results.iter().all(|r| r.done_ms >= until),
            "a connection finished while the loop was blocked"
        );

        let free = run(&workload(&server, 20, 20), block(true));
        let (_, until) = free.blocked.expect("the blocking task ran");
        assert_all_ok(&free.results, 20, 20);
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
