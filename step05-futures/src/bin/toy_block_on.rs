//! The smallest executor there is: one future, one thread, a waker that unparks the thread.
//! The future is a `Delay` that a helper thread wakes; the program prints each poll.
//!
//! ```text
//! cargo run --release -p step05-futures --bin toy_block_on
//! ```
#![forbid(unsafe_code)]

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use step05_futures::toy::{Delay, block_on};
use testbed::RunClock;

/// A future that prints each time it is polled, and what the future inside answered.
struct Traced<'a, F> {
    inner: Pin<Box<F>>,
    polls: &'a Cell<usize>,
    clock: RunClock,
}

impl<F: Future> Future for Traced<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        let answer = self.inner.as_mut().poll(cx);
        let said = if answer.is_ready() {
            "Ready"
        } else {
            "Pending"
        };
        println!(
            "{:6.1} ms  poll {}: {said}",
            self.clock.elapsed_ms(),
            self.polls.get()
        );
        answer
    }
}

fn main() {
    let (clock, polls) = (RunClock::start(), Cell::new(0));
    block_on(Traced {
        inner: Box::pin(Delay::new(Duration::from_millis(50))),
        polls: &polls,
        clock,
    });
    println!(
        "{:6.1} ms  done after {} polls; the thread was parked in between",
        clock.elapsed_ms(),
        polls.get()
    );
}
