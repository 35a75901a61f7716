//! Every step and variant `compare` runs: each step's own list (`variants()`, the one its
//! binary reads too), in the order of the book, after the floor (`floor.rs`), and tokio as the
//! reference. Adding a step's rows is adding its list here (and the step as a dependency in
//! `Cargo.toml`).

pub use testbed::{Plan, Variant};

// ANCHOR: variants
/// All the variants, in the order of the book.
pub fn all() -> Vec<Variant> {
    // The floor first: what the kernel alone charges for a connection, every step's yardstick.
    let mut variants = vec![crate::floor::variant()];
    variants.extend(step01_blocking::variants());
    variants.extend(step02_nonblocking::variants());
    variants.extend(step03_select::variants());
    variants.extend(step04_callbacks::variants());
    variants.extend(step05_futures::variants());
    // Step 6's own runtime, then step 7; step 6's tokio variant is the yardstick, last.
    let (ours, tokio): (Vec<Variant>, Vec<Variant>) = step06_async_await::variants()
        .into_iter()
        .partition(|v| v.variant != "tokio");
    variants.extend(ours);
    variants.extend(step07_green_threads::variants());
    // Completion instead of readiness: step 5's executor over an io_uring ring (a row that says
    // why, where io_uring is not allowed).
    variants.extend(step08_io_uring::variants());
    // Every core: step 6's async code on our work-stealing runtime, and on tokio's
    // multi_thread runtime with as many workers.
    variants.extend(step09_work_stealing::variants());
    // The yardstick: the same async code as step 6, on tokio (one thread), in a row of its own.
    variants.extend(tokio.into_iter().map(|v| Variant {
        step: "tokio",
        variant: "current-thread",
        ..v
    }));
    variants
}
// ANCHOR_END: variants
