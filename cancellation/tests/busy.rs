//! A timeout of 10 ms around 50 ms of work: if the work never reaches an `.await`, the timeout
//! cannot cut it, and the work's result comes back though the deadline passed long before; if
//! it yields every millisecond, the timeout cuts it at a yield. On our runtime and on tokio
//! (whose timeout, like ours, polls the work first and its deadline second).

use std::time::Duration;

use cancellation::busy::{spin_with_yields, spin_without_await};

const DEADLINE: Duration = Duration::from_millis(10);
const WORK: Duration = Duration::from_millis(50);

#[test]
fn ours_cannot_cut_a_loop_without_await() {
    let outcome = step05_futures::block_on(step06_async_await::timeout::timeout(
        DEADLINE,
        spin_without_await(WORK),
    ));
    assert!(outcome.is_ok(), "the work finished: nobody could stop it");
}

#[test]
fn ours_cuts_a_loop_that_yields() {
    let outcome = step05_futures::block_on(step06_async_await::timeout::timeout(
        DEADLINE,
        spin_with_yields(WORK),
    ));
    assert!(outcome.is_err(), "cut at a yield, after the deadline");
}

#[test]
fn tokio_cannot_cut_a_loop_without_await() {
    // Made inside the runtime: tokio's timer needs it.
    let outcome = cancellation::tokio_runtime()
        .block_on(async { tokio::time::timeout(DEADLINE, spin_without_await(WORK)).await });
    assert!(outcome.is_ok(), "the work finished: nobody could stop it");
}

#[test]
fn tokio_cuts_a_loop_that_yields() {
    let outcome = cancellation::tokio_runtime().block_on(async {
        tokio::time::timeout(DEADLINE, async {
            // tokio's own yield, so that tokio's timer gets its turn.
            let started = std::time::Instant::now();
            while started.elapsed() < WORK {
                tokio::task::yield_now().await;
            }
        })
        .await
    });
    assert!(outcome.is_err(), "cut at a yield, after the deadline");
}
