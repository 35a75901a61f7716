//! The fan-out three ways: the same `Fetch` futures, joined by our hand-written `JoinAll`, by
//! `futures::future::join_all`, or collected as they finish from a `FuturesUnordered`.

use std::io::Write;

use futures::stream::{FuturesUnordered, StreamExt};
use testbed::{ConnectionResult, Variant, Workload};

use crate::executor::block_on;
use crate::fetch::Fetch;
use crate::join::JoinAll;

/// One `Fetch` per connection (none of them started: futures do nothing until polled).
fn fetches(workload: &Workload) -> impl Iterator<Item = Fetch> + '_ {
    (0..workload.len()).map(|id| Fetch::new(workload, id))
}

// ANCHOR: variants
/// All connections in one future, our own `JoinAll`, run by our executor.
pub fn state_machine(workload: &Workload) -> Vec<ConnectionResult> {
    block_on(JoinAll::new(fetches(workload)))
}

/// The same with `futures::future::join_all` (asyncio's `gather`).
pub fn join_all(workload: &Workload) -> Vec<ConnectionResult> {
    block_on(futures::future::join_all(fetches(workload)))
}

/// The same with `FuturesUnordered`, taking each result as it finishes (asyncio's
/// `as_completed`), and telling `progress` about it.
pub fn unordered(
    workload: &Workload,
    mut progress: Option<&mut dyn Write>,
) -> Vec<ConnectionResult> {
    let in_flight: FuturesUnordered<Fetch> = fetches(workload).collect();
    let finished = in_flight
        .inspect(|result| {
            if let Some(out) = progress.as_mut() {
                let outcome = result.error.as_deref().unwrap_or("ok");
                let _ = writeln!(
                    out,
                    "connection {} finished at {:.1} ms: {outcome}",
                    result.id, result.done_ms
                );
            }
        })
        .collect::<Vec<_>>();
    let mut results = block_on(finished);
    results.sort_by_key(|r| r.id);
    results
}
// ANCHOR_END: variants

/// This step's fan-outs, as the binary and `compare` run them (`unordered` without its
/// "finished" lines).
pub fn variants() -> Vec<Variant> {
    vec![
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "state-machine",
            about: "Our hand-written JoinAll over hand-written Fetch futures",
            fan_out: |w| state_machine(w).into(),
            cannot_run: testbed::variants::always,
        },
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "join-all",
            about: "futures::future::join_all (asyncio.gather)",
            fan_out: |w| join_all(w).into(),
            cannot_run: testbed::variants::always,
        },
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "unordered",
            about: "FuturesUnordered, each result as it finishes (asyncio.as_completed)",
            fan_out: |w| unordered(w, None).into(),
            cannot_run: testbed::variants::always,
        },
    ]
}
