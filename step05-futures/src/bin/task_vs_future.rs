//! A future does nothing until it is polled; a task runs on its own. (asyncio: a coroutine
//! object versus `create_task`.)
//!
//! ```text
//! cargo run -p step05-futures --bin task_vs_future
//! ```
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::FutureExt;
use step05_futures::time::sleep;
use step05_futures::{block_on, spawn};

/// Says when it is polled, then is ready with `name`.
struct Loud {
    name: &'static str,
    started: Instant,
}

impl Future for Loud {
    type Output = &'static str;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<&'static str> {
        println!(
            "{:6.1} ms  {} is polled, and finishes",
            self.started.elapsed().as_secs_f64() * 1e3,
            self.name
        );
        Poll::Ready(self.name)
    }
}

fn main() {
    let started = Instant::now();
    let at = move || started.elapsed().as_secs_f64() * 1e3;
    block_on(
        futures::future::lazy(move |_| {
            // ANCHOR: task_vs_future
            // A future: a value. Creating it runs none of its code.
            let future = Loud {
                name: "the future",
                started,
            };
            // A task: spawning hands the future to the executor, which polls it on its own.
            let task = spawn(Loud {
                name: "the task",
                started,
            });
            println!(
                "{:6.1} ms  both created; now we sleep 100 ms without awaiting either",
                at()
            );
            // Then: sleep, then poll the future (through `then`), then the task's handle.
            sleep(Duration::from_millis(100)).then(move |()| {
                println!(
                    "{:6.1} ms  awake; now we await the future, then the task's handle",
                    at()
                );
                future.then(move |name| {
                    println!("{:6.1} ms  got {name:?}", at());
                    task.map(move |name| {
                        println!("{:6.1} ms  got {name:?} (it had finished long ago)", at())
                    })
                })
            })
            // ANCHOR_END: task_vs_future
        })
        .flatten(),
    );
}
