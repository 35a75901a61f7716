//! Sleeping and timeouts on the ring: a `Sleep` is a timer of the ring's heap (the ring waits no
//! longer than its nearest deadline), and `timeout` races a future against one, as step 6's
//! does against a reactor timer.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::uring::ring::Ring;
use step05_futures::timers::TimerKey;
pub use step06_async_await::timeout::{Elapsed, Timeout};

// ANCHOR: sleep
/// A future ready at `deadline`. Like every future, it does nothing until first polled; then it
/// adds a timer to the ring. Dropped early, it takes the timer out.
pub struct Sleep {
    deadline: Instant,
    timer: Option<(Rc<RefCell<Ring>>, TimerKey)>,
}

/// Ready at `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

/// Ready after `duration`.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.timer.is_none() {
            if Instant::now() >= self.deadline {
                return Poll::Ready(());
            }
            let ring = Ring::current();
            let key = ring.borrow_mut().add_timer(self.deadline);
            self.timer = Some((ring, key));
        }
        let (ring, key) = self.timer.as_ref().expect("added above");
        ring.borrow_mut().timers().poll(*key, cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((ring, key)) = self.timer.take()
            && let Ok(mut ring) = ring.try_borrow_mut()
        {
            ring.timers().remove(key);
        }
    }
}
// ANCHOR_END: sleep

/// Runs `future` for at most `duration`: step 6's `timeout`, with the ring's `Sleep` as its
/// deadline. If the time runs out first, the future is dropped, and with it every operation it
/// had in flight (orphaned on the ring, and cancelled).
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F, Sleep> {
    let deadline = Instant::now().checked_add(duration).map(sleep_until);
    Timeout::with_deadline(future, deadline, duration)
}
