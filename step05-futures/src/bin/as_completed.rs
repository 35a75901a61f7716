//! Results as they come: four requests with different delays, joined by `FuturesUnordered`,
//! printed in the order they finish (asyncio's `as_completed`).
//!
//! ```text
//! cargo run -p step05-futures --bin as_completed
//! ```
#![forbid(unsafe_code)]

use std::time::Duration;

use testbed::{ServerConfig, ServerHandle, Target, Workload};

fn main() {
    let server = ServerHandle::start(ServerConfig::default()).expect("start the delay server");
    let delays = [40, 10, 30, 20];
    let targets = delays
        .iter()
        .map(|ms| Target::new(server.addr(), format!("/delay/{ms}")))
        .collect();
    let workload = Workload::mixed(targets, Duration::from_secs(5));
    println!("connections 0 to 3 ask for delays of {delays:?} ms");
    let results = step05_futures::fan_out::unordered(&workload, Some(&mut std::io::stdout()));
    println!(
        "(returned sorted by id again: {:?})",
        results.iter().map(|r| r.id).collect::<Vec<_>>()
    );
}
