//! A program that hangs, and the task dump that says why.
//!
//! Three fetchers download from the delay server (slowly: 2 s each). A `reporter` task waits
//! for an `Event`, `first_done`, that a `watcher` task is meant to set when the first fetcher
//! finishes; it would then print a progress line. But the watcher has a bug: it gives up when
//! its own probe of the server fails, and returns before setting the event. Nothing is
//! printed, nothing fails; the program just waits. At 300 ms, a task dump shows what every
//! task is waiting on.
//!
//! ```text
//! cargo run --release -p step06-async-await --bin hang
//! ```
#![forbid(unsafe_code)]

use std::rc::Rc;
use std::time::Duration;

use step05_futures::dump::dump;
use step05_futures::net::TcpStream;
use step05_futures::time::sleep;
use step05_futures::{block_on, spawn};
use step06_async_await::fetch::fetch;
use step06_async_await::sync::Event;
use testbed::{ServerConfig, ServerHandle, Workload};

fn main() {
    testbed::run::quiet_when_the_reader_stops_reading();
    let server = ServerHandle::start(ServerConfig::default()).expect("start the delay server");
    let workload = Workload::delayed(server.addr(), 3, 2000);
    block_on(async {
        // ANCHOR: hang
        let first_done = Rc::new(Event::new());
        for id in 0..workload.len() {
            let (target, check) = (workload.targets[id].clone(), workload.response_check());
            spawn(fetch(target, workload.record(id), check));
        }
        // The watcher: probes the server, then should set `first_done` once a fetch is done.
        let event = Rc::clone(&first_done);
        let probe = "127.0.0.1:9".parse().expect("an address"); // the discard port: closed
        spawn(async move {
            if TcpStream::connect(probe).await.is_err() {
                return; // the bug: gives up without setting the event
            }
            sleep(Duration::from_secs(2)).await;
            event.set();
        });
        // The reporter: waits for the watcher's event.
        let event = Rc::clone(&first_done);
        spawn(async move {
            event.wait().await;
            println!("the first fetch is done");
        });
        // ANCHOR_END: hang
        sleep(Duration::from_millis(300)).await;
        println!("300 ms in, nothing printed yet. What is everyone waiting for?");
        print!("{}", dump());
    });
}
