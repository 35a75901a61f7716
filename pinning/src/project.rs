//! Pin projection: from a pinned struct to its fields, with `pin-project-lite`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

// ANCHOR: counted
pin_project! {
    /// A future, and how many polls it took. `inner` is *structurally pinned*: it may point
    /// into itself (a `Pinned` greeting, an `async fn`'s future), so once `Counted` is pinned,
    /// `inner` must stay put too, and is only ever reached as `Pin<&mut F>`. `polls` is not:
    /// a plain number, reached as `&mut u32`, which may be changed or replaced freely.
    pub struct Counted<F> {
        #[pin]
        inner: F,
        polls: u32,
    }
}

impl<F> Counted<F> {
    /// `inner`, not yet polled.
    pub fn new(inner: F) -> Counted<F> {
        Counted { inner, polls: 0 }
    }
}

impl<F: Future> Future for Counted<F> {
    type Output = (F::Output, u32);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `project` splits `Pin<&mut Counted<F>>` into one reference per field: a
        // `Pin<&mut F>` for the pinned field, a `&mut u32` for the other. No `unsafe` here:
        // the macro wrote it, and made sure `Counted` is `Unpin` only if `F` is.
        let this = self.project();
        *this.polls += 1;
        match this.inner.poll(cx) {
            Poll::Ready(output) => Poll::Ready((output, *this.polls)),
            Poll::Pending => Poll::Pending,
        }
    }
}
// ANCHOR_END: counted
