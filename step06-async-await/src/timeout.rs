//! `timeout`: a future with a deadline. Whichever finishes first wins; the other is dropped,
//! and dropping a future is how Rust cancels it.
//!
//! This one is written by hand, as a struct, not as an `async fn`. An `async fn timeout(d, f)`
//! would be three lines ([`timeout_as_async_fn`]), and twice as big: the compiler keeps the
//! argument `f` and the local it is moved into (to pin it) in separate places of its state
//! machine, so every connection's future would carry its `exchange` twice (the example
//! `future_sizes` measures both). Knowing what the compiler generates is part of using it.

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
/// whatever it was waiting on (a socket, a timer) is released then and there. (A duration too
/// long to add to the clock, such as `Duration::MAX`, means no deadline.)
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    let deadline = Instant::now().checked_add(duration).map(Sleep::until);
    Timeout {
        future: Box::pin(future),
        deadline,
        duration,
    }
}

/// The future of [`timeout`]. `S` is the deadline's timer: step 5's `Sleep` here; step 8 gives
/// its ring's ([`Timeout::with_deadline`]).
pub struct Timeout<F, S = Sleep> {
    /// The future, pinned where it is for as long as it lives: in a box, since an `async fn`'s
    /// future is not `Unpin`, and safe code can only pin it in place behind a pointer (tokio
    /// keeps it inline, with `unsafe` pin projection, and saves the allocation).
    future: Pin<Box<F>>,
    /// The deadline, if there is one.
    deadline: Option<S>,
    /// For the error.
    duration: Duration,
}

impl<F: Future, S: Future<Output = ()> + Unpin> Future for Timeout<F, S> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The future first: if it is done at the deadline, it is done.
        if let Poll::Ready(output) = self.future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match self.deadline.as_mut().map(|sleep| Pin::new(sleep).poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(Elapsed(self.duration))),
            _ => Poll::Pending,
        }
    }
}
// ANCHOR_END: timeout

impl<F, S> Timeout<F, S> {
    /// `future` with `deadline` (a timer of any runtime, ready when the time is up; `None`: no
    /// deadline), reported as `Elapsed(duration)` if it comes first.
    pub fn with_deadline(future: F, deadline: Option<S>, duration: Duration) -> Timeout<F, S> {
        Timeout {
            future: Box::pin(future),
            deadline,
            duration,
        }
    }
}

/// The three-line `async fn` version of [`timeout`], kept for the example `future_sizes`: it
/// works, and its future holds `future` twice.
pub async fn timeout_as_async_fn<F: Future>(
    duration: Duration,
    future: F,
) -> Result<F::Output, Elapsed> {
    use futures::future::{Either, select};
    match select(
        std::pin::pin!(future),
        std::pin::pin!(step05_futures::time::sleep(duration)),
    )
    .await
    {
        Either::Left((output, _)) => Ok(output),
        Either::Right(((), _)) => Err(Elapsed(duration)),
    }
}
