//! The first of two requests to finish wins; the other is dropped, which cancels it (asyncio's
//! `wait(..., return_when=FIRST_COMPLETED)`). `futures::future::select` is the function form of
//! the `select!` macro, which needs `async` code (step 6).
//!
//! ```text
//! cargo run -p step05-futures --bin first_to_finish
//! ```
#![forbid(unsafe_code)]

use std::time::Duration;

use futures::future::Either;
use step05_futures::block_on;
use step05_futures::fetch::Fetch;
use testbed::{ServerConfig, ServerHandle, Target, Workload};

fn main() {
    let server = ServerHandle::start(ServerConfig::default()).expect("start the delay server");
    let workload = Workload::mixed(
        vec![
            Target::new(server.addr(), "/delay/300"),
            Target::new(server.addr(), "/delay/30"),
        ],
        Duration::from_secs(5),
    );
    // ANCHOR: select
    let slow = Fetch::new(&workload, 0);
    let fast = Fetch::new(&workload, 1);
    // Ready as soon as either is; hands back the winner's output and the loser, unfinished.
    let (winner, result) = match block_on(futures::future::select(slow, fast)) {
        Either::Left((result, _fast_unfinished)) => ("GET /delay/300", result),
        Either::Right((result, _slow_unfinished)) => ("GET /delay/30", result),
    };
    // The loser was dropped with the tuple: its socket closed and deregistered, cancelled.
    // ANCHOR_END: select
    println!(
        "first to finish: {winner} after {:.1} ms ({} bytes)",
        result.done_ms, result.bytes
    );
    println!("the other one was dropped unfinished: its socket closed and deregistered");
}
