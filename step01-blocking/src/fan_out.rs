//! The two fan-outs of blocking code: one connection after another, and one OS thread per
//! connection; and the list of them that the binary and `compare` run ([`variants`]).

use std::thread;
use std::time::Duration;

use testbed::{ConnectionResult, FetchError, Plan, Variant, Workload};

use crate::fetch::fetch;

// ANCHOR: sequential
/// Runs every connection to the end before starting the next. The whole run takes the sum of
/// all connections' times: N connections to a server that waits L each take N x L.
pub fn sequential(workload: &Workload) -> Vec<ConnectionResult> {
    (0..workload.len()).map(|id| fetch(workload, id)).collect()
}
// ANCHOR_END: sequential

/// The stack we give each connection's thread: 64 KiB, a thirty-second of the 2 MiB Rust gives
/// a spawned thread by default. `fetch` needs a few KiB (its 8 KiB read buffer is the largest
/// thing on it), and the kernel only backs the pages a thread really touches with memory, so
/// a smaller stack mostly saves address space, not RAM (chapter 1 measures both).
pub const STACK_SIZE: usize = 64 * 1024;

// ANCHOR: threads
/// Runs every connection on its own thread, all at once, and waits for them all. Each thread
/// blocks in its own `connect` and `read`; the kernel runs whichever can proceed. A thread that
/// cannot be created (out of memory, or over the system's thread limit) becomes that
/// connection's failure; the others go on.
pub fn threads(workload: &Workload, stack_size: usize) -> Vec<ConnectionResult> {
    // Scoped threads may borrow `workload`: the scope does not end before every thread has.
    thread::scope(|scope| {
        let spawned: Vec<_> = (0..workload.len())
            .map(|id| {
                thread::Builder::new()
                    .name(format!("conn-{id}"))
                    .stack_size(stack_size)
                    .spawn_scoped(scope, move || fetch(workload, id))
                    .map_err(|e| {
                        let why = FetchError::Setup(format!("cannot spawn a thread: {e}"));
                        ConnectionResult::failed_at_start(workload.clock, id, &why)
                    })
            })
            .collect();
        spawned
            .into_iter()
            .enumerate()
            .map(|(id, thread)| match thread {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    let why = FetchError::Setup("the connection's thread panicked".into());
                    ConnectionResult::failed_at_start(workload.clock, id, &why)
                }),
                Err(failed) => failed,
            })
            .collect()
    })
}
// ANCHOR_END: threads

/// This step's fan-outs, with their defaults. The sequential one takes N times the delay, so
/// `compare` skips it where that is past its budget.
pub fn variants() -> Vec<Variant> {
    vec![
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "sequential",
            about: "One connection after another",
            fan_out: |w| sequential(w).into(),
            cannot_run: sequential_budget,
        },
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "threads",
            about: "One OS thread per connection",
            fan_out: |w| threads(w, STACK_SIZE).into(),
            cannot_run: testbed::variants::always,
        },
    ]
}

/// One connection after another takes N x the delay: too long past the plan's budget.
fn sequential_budget(plan: &Plan) -> Option<String> {
    let expected = Duration::from_millis(plan.delay_ms.saturating_mul(plan.connections as u64));
    (expected > plan.budget).then(|| {
        format!(
            "would take about {:.0} s ({} x {} ms), over the {} s budget (--budget-s)",
            expected.as_secs_f64(),
            plan.connections,
            plan.delay_ms,
            plan.budget.as_secs()
        )
    })
}
