//! Many futures on one thread: tasks, a queue of the woken ones, a loop that polls only those.
//! Five `Delay`s of different lengths; the program prints each poll.
//!
//! ```text
//! cargo run --release -p step05-futures --bin toy_executor
//! ```
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use step05_futures::toy::{Delay, Executor};
use testbed::RunClock;

/// A task of this program: a `Delay`, and a line printed at each poll.
struct Task {
    id: usize,
    delay: Delay,
    clock: RunClock,
}

impl Future for Task {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let answer = Pin::new(&mut self.delay).poll(cx);
        let said = if answer.is_ready() {
            "Ready"
        } else {
            "Pending"
        };
        println!(
            "{:6.1} ms  poll task {}: {said}",
            self.clock.elapsed_ms(),
            self.id
        );
        answer
    }
}

fn main() {
    let clock = RunClock::start();
    let mut executor = Executor::new();
    for (id, ms) in [50, 10, 40, 20, 30].into_iter().enumerate() {
        let delay = Delay::new(Duration::from_millis(ms));
        executor.spawn(Task { id, delay, clock });
    }
    // ANCHOR: run
    // Nothing queued: sleep until a waker unparks this thread.
    let polls = executor.run(std::thread::park);
    // ANCHOR_END: run
    println!(
        "{:6.1} ms  all five done, in {polls} polls",
        clock.elapsed_ms()
    );
}
