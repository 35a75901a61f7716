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
use std::time::{Duration, Instant};

use step05_futures::toy::{Delay, Executor, ms_since};

/// A task of this program: a `Delay`, and a line printed at each poll.
struct Task {
    id: usize,
    delay: Delay,
    start: Instant,
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
            ms_since(self.start),
            self.id
        );
        answer
    }
}

fn main() {
    let start = Instant::now();
    let mut executor = Executor::new();
    for (id, ms) in [50, 10, 40, 20, 30].into_iter().enumerate() {
        let delay = Delay::new(Duration::from_millis(ms));
        executor.spawn(Task { id, delay, start });
    }
    // Nothing queued: sleep until a waker unparks this thread.
    let polls = executor.run(std::thread::park);
    println!(
        "{:6.1} ms  all five done, in {polls} polls",
        ms_since(start)
    );
}
