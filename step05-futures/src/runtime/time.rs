//! Timers: a future that is ready at a deadline.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::reactor::{Reactor, TimerKey};

// ANCHOR: sleep
/// Ready at its deadline. Registers with the reactor at the first poll, and leaves it when
/// ready or dropped.
pub struct Sleep {
    /// When it is ready.
    deadline: Instant,
    /// Its timer with the reactor, once polled.
    timer: Option<(Rc<RefCell<Reactor>>, TimerKey)>,
}

impl Sleep {
    /// Ready at `deadline`.
    pub fn until(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            timer: None,
        }
    }

    /// When it is ready.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

/// Ready `duration` from now.
///
/// Cancel safe as to what it holds (dropping it only forgets its timer), but a new `sleep`
/// starts the wait over: to keep a schedule through cancellations, keep the deadline outside
/// and wait with [`Sleep::until`] (`cancellation/tests/exercises.rs`).
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::until(Instant::now() + duration)
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.cancel();
            return Poll::Ready(());
        }
        if self.timer.is_none() {
            let reactor = Reactor::current();
            let key = reactor.borrow_mut().add_timer(self.deadline);
            self.timer = Some((reactor, key));
        }
        let (reactor, key) = self.timer.as_ref().expect("registered above");
        reactor.borrow_mut().poll_timer(*key, cx)
    }
}

impl Sleep {
    /// Leaves the reactor's timers, if it had joined them.
    fn cancel(&mut self) {
        if let Some((reactor, key)) = self.timer.take() {
            reactor.borrow_mut().remove_timer(key);
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}
// ANCHOR_END: sleep
