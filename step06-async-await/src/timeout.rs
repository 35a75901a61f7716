//! `timeout`: a future with a deadline. Whichever finishes first wins; the other is dropped,
//! and dropping a future is how Rust cancels it.
//!
//! This one is written by hand, as a struct, not as an `async fn`. An `async fn timeout(d, f)`
//! would be three lines, and twice as big: the compiler keeps the argument `f` and the local it
//! is moved into (to pin it) in separate places of its state machine, so every connection's
//! future would carry its `exchange` twice (the example `future_sizes` measured 17 KiB instead
//! of 8). Knowing what the compiler generates is part of using it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use step05_futures::time::Sleep;

/// The deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(pub Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out after {} ms", self.0.as_millis())
    }
}

impl std::error::Error for Elapsed {}

// ANCHOR: timeout
/// Runs `future` for at most `duration`. If the time runs out first, the future is dropped:
/// whatever it was waiting on (a socket, a timer) is released then and there.
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future: Box::pin(future),
        sleep: Sleep::until(Instant::now() + duration),
        duration,
    }
}

/// The future of [`timeout`].
pub struct Timeout<F> {
    /// The future, pinned where it is (in a box) for as long as it lives.
    future: Pin<Box<F>>,
    /// The deadline.
    sleep: Sleep,
    /// For the error.
    duration: Duration,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The future first: if it is done at the deadline, it is done.
        if let Poll::Ready(output) = self.future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut self.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(self.duration))),
            Poll::Pending => Poll::Pending,
        }
    }
}
// ANCHOR_END: timeout
