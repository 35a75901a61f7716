//! The fan-out on the ring: 100 connections succeed, all in progress at once, with far fewer
//! system calls than connections; a ring much smaller than the fan-out still carries it; the
//! testbed's fault suite passes (its deadlines are the ring's timers, its cancellations
//! orphaned operations); and nothing is left on the ring afterwards.

use step08_io_uring::fetch::Buffers;
use step08_io_uring::{Options, fan_out, io_uring_here};
use testbed::{ServerConfig, ServerHandle, Workload};

/// 100 connections: all ok, all in progress at once, nothing left on the ring, and far fewer
/// `io_uring_enter` calls than entries: the entries of many connections go to the kernel
/// together.
#[test]
fn a_hundred_connections_succeed_in_a_few_system_calls() {
    if !io_uring_here("a_hundred_connections_succeed_in_a_few_system_calls") {
        return;
    }
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let run = fan_out(
        &Workload::delayed(server.addr(), 100, 20),
        Options::default(),
    );
    testbed::faults::assert_all_ok(&run.results, 100, 20);
    testbed::faults::assert_all_started_before_any_finished(&run.results);
    assert_eq!(
        run.left_on_ring, 0,
        "every operation completed or was reaped"
    );
    // Six entries per connection (socket, connect, send, two receives or more, close), plus
    // the interrupt's read, the pool's provide, and the give-backs of the received buffers
    // (at least one entry; many buffers in each when they come back in a row).
    assert!(run.counts.submitted >= 603, "{:?}", run.counts);
    // Usually a dozen or so calls; the bound leaves room for a loaded machine, where answers
    // trickle in and wake the ring more often, and still says that calls carry many entries.
    assert!(
        run.counts.enters * 3 < run.counts.submitted,
        "far fewer io_uring_enter calls than entries: {:?}",
        run.counts
    );
}

/// A ring of 2 entries carries 300 connections: a full submission queue is handed to the
/// kernel (one more `io_uring_enter`) and filled again.
#[test]
fn a_tiny_ring_carries_a_large_fan_out() {
    if !io_uring_here("a_tiny_ring_carries_a_large_fan_out") {
        return;
    }
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let options = Options {
        ring_entries: 2,
        ..Options::default()
    };
    let run = fan_out(&Workload::delayed(server.addr(), 300, 20), options);
    testbed::faults::assert_all_ok(&run.results, 300, 20);
    assert_eq!(run.left_on_ring, 0);
    // Each call hands over at most the two entries the queue holds; up to two more (the last
    // closes) may still be queued when the counts are read, for the ring's drop to hand over.
    assert!(
        run.counts.enters * 2 + 2 >= run.counts.submitted,
        "at most two entries per call with a ring of two: {:?}",
        run.counts
    );
}

/// With a limit, the semaphore (step 6's, unchanged) admits K at a time on the ring too.
#[test]
fn a_limit_admits_k_at_a_time() {
    if !io_uring_here("a_limit_admits_k_at_a_time") {
        return;
    }
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let options = Options {
        limit: Some(5),
        ..Options::default()
    };
    let run = fan_out(&Workload::delayed(server.addr(), 20, 10), options);
    testbed::faults::assert_all_ok(&run.results, 20, 10);
    assert_eq!(testbed::timeline::peak_in_flight(&run.results), 5);
}

/// The testbed's fault suite, each check a test of its own, for both ways of receiving
/// (skipped, saying why, only where io_uring is not allowed; see `io_uring_here`).
macro_rules! fault_suite_on_the_ring {
    ($($check:ident),*) => {
        mod fault_suite_pool {
            use super::*;
            $(
                #[test]
                fn $check() {
                    if io_uring_here(stringify!($check)) {
                        testbed::faults::$check(|workload: &Workload| {
                            fan_out(workload, Options::default()).results
                        });
                    }
                }
            )*
        }
        mod fault_suite_owned {
            use super::*;
            $(
                #[test]
                fn $check() {
                    if io_uring_here(stringify!($check)) {
                        testbed::faults::$check(|workload: &Workload| {
                            let options = Options { buffers: Buffers::Owned, ..Options::default() };
                            fan_out(workload, options).results
                        });
                    }
                }
            )*
        }
    };
}

fault_suite_on_the_ring!(
    all_succeed,
    refused,
    reset,
    hang,
    drip,
    short,
    huge,
    not_found,
    mixed
);
