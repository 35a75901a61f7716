//! `yield_now`: let the other tasks run, then go on. (tokio has `tokio::task::yield_now`, and
//! also gives every task a budget of operations, after which its I/O futures say "not yet" on
//! their own. Our runtime has no such budget, so code that can keep busy yields by hand.)

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

// ANCHOR: yield_now
/// A future that is not ready the first time it is polled (it wakes its task at once, so the
/// task goes to the back of the queue) and ready the second time.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
// ANCHOR_END: yield_now
