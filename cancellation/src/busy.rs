//! Cancellation happens only at an `.await`: a future is cancelled by not being polled again,
//! and a future that never returns from `poll` (a loop with no `.await` in it) cannot be
//! stopped by anyone until it is done. A timeout around it fires too late: it learns that its
//! deadline has passed only when the loop lets it look.

use std::time::{Duration, Instant};

use step06_async_await::yield_now::yield_now;

// ANCHOR: spin
/// Works for `spin` without an `.await`: one `poll` that does not return until it is done.
pub async fn spin_without_await(spin: Duration) -> u64 {
    let started = Instant::now();
    let mut rounds = 0u64;
    while started.elapsed() < spin {
        rounds = std::hint::black_box(rounds + 1);
    }
    rounds
}

/// The same work, letting the other tasks (and a timeout) in every millisecond.
pub async fn spin_with_yields(spin: Duration) -> u64 {
    let started = Instant::now();
    let mut slice = Instant::now();
    let mut rounds = 0u64;
    while started.elapsed() < spin {
        rounds = std::hint::black_box(rounds + 1);
        if slice.elapsed() >= Duration::from_millis(1) {
            yield_now().await; // a place where this future can be cancelled
            slice = Instant::now();
        }
    }
    rounds
}
// ANCHOR_END: spin
