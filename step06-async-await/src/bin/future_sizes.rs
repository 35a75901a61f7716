//! How big are the state machines? The compiler's, for an `async fn`, beside step 5's
//! hand-written one, and tokio's.
//!
//! ```text
//! cargo run --release -p step06-async-await --bin future_sizes
//! ```
#![forbid(unsafe_code)]

use std::time::Duration;

use step06_async_await::fetch::exchange;
use step06_async_await::timeout::{timeout, timeout_as_async_fn};
use testbed::{Target, Workload};

fn main() {
    let workload = Workload::uniform(
        Target::new(([127, 0, 0, 1], 9).into(), "/"),
        1,
        Duration::from_secs(1),
    );
    // ANCHOR: sizes
    let hand_written = step05_futures::fetch::Fetch::new(&workload, 0);
    let ours = step06_async_await::fetch::fetch(
        workload.targets[0].clone(),
        workload.record(0),
        workload.response_check(),
    );
    let on_tokio = step06_async_await::on_tokio::fetch(
        workload.targets[0].clone(),
        workload.record(0),
        workload.response_check(),
    );
    // The exchange alone, and `timeout` around it written as a struct (ours) and as an
    // `async fn`. Each future borrows a record and a check of its own.
    let target = &workload.targets[0];
    let (mut record, mut check) = (workload.record(0), workload.response_check());
    let exchange_size = std::mem::size_of_val(&exchange(target, &mut record, &mut check));
    let (mut record, mut check) = (workload.record(0), workload.response_check());
    let timeout_struct = std::mem::size_of_val(&timeout(
        Duration::from_secs(1),
        exchange(target, &mut record, &mut check),
    ));
    let (mut record, mut check) = (workload.record(0), workload.response_check());
    let timeout_async_fn = std::mem::size_of_val(&timeout_as_async_fn(
        Duration::from_secs(1),
        exchange(target, &mut record, &mut check),
    ));
    println!(
        "step 5's hand-written Fetch:                  {:5} bytes",
        std::mem::size_of_val(&hand_written)
    );
    println!("step 6's async fn exchange:                   {exchange_size:5} bytes");
    println!(
        "  timeout(exchange), our struct:              {timeout_struct:5} bytes (+ the exchange, in a box)"
    );
    println!("  timeout(exchange), as an async fn:          {timeout_async_fn:5} bytes");
    println!(
        "step 6's async fn fetch (ours):               {:5} bytes (+ the exchange, in a box)",
        std::mem::size_of_val(&ours)
    );
    println!(
        "the same async fn fetch, on tokio:            {:5} bytes (tokio's timeout keeps it inline)",
        std::mem::size_of_val(&on_tokio)
    );
    // ANCHOR_END: sizes
    // None of these futures was polled: creating them did nothing, and dropping them does nothing.
}
