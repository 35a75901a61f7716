//! The first of two requests to finish wins; the other is dropped, which cancels it (asyncio's
//! `wait(..., return_when=FIRST_COMPLETED)`). `futures::future::select` is the function form of
//! the `select!` macro, which needs `async` code (step 6).
//!
//! ```text
//! cargo run -p step05-futures --bin first_to_finish
//! ```
#![forbid(unsafe_code)]

use std::time::Duration;

use futures::FutureExt as _;
use futures::future::Either;
use step05_futures::block_on;
use step05_futures::fetch::Fetch;
use step05_futures::reactor::Reactor;
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
    let slow = Fetch::new(&workload, 0); // connection 0: GET /delay/300
    let fast = Fetch::new(&workload, 1); // connection 1: GET /delay/30
    // Ready as soon as either is; hands back the winner's output and the loser, unfinished.
    let first = futures::future::select(slow, fast).map(|either| {
        let (winner, result) = match either {
            Either::Left((result, fast_unfinished)) => {
                drop(fast_unfinished); // cancelled
                ("GET /delay/300", result)
            }
            Either::Right((result, slow_unfinished)) => {
                drop(slow_unfinished); // cancelled
                ("GET /delay/30", result)
            }
        };
        // What the reactor still holds, now that the loser is gone.
        let reactor = Reactor::current();
        let reactor = reactor.borrow();
        let left = (reactor.live_registrations(), reactor.live_timers());
        (winner, result, left)
    });
    let (winner, result, (sockets, timers)) = block_on(first);
    // ANCHOR_END: select
    println!(
        "first to finish: {winner} after {:.1} ms ({} bytes)",
        result.done_ms, result.bytes
    );
    println!(
        "the other one was dropped unfinished; the reactor now holds {sockets} socket(s) and \
         {timers} timer(s)"
    );
}
