//! Sleeping and timeouts on the ring: a `Sleep` is a timer of the ring's heap (the ring waits no
//! longer than its nearest deadline), and `timeout` races a future against one, as step 6's
//! does against a reactor timer.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::uring::ring::Ring;
use crate::uring::timers::TimerKey;

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
            let key = ring.borrow_mut().timers().add(self.deadline);
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

/// The deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(pub Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out after {} ms", self.0.as_millis())
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(elapsed: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, elapsed)
    }
}

/// Runs `future` for at most `duration`; if the time runs out first, the future is dropped,
/// and with it every operation it had in flight (orphaned on the ring, and cancelled).
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future: Box::pin(future),
        deadline: Instant::now().checked_add(duration).map(sleep_until),
        duration,
    }
}

/// The future of [`timeout`]: step 6's, with the ring's `Sleep`.
pub struct Timeout<F> {
    future: Pin<Box<F>>,
    deadline: Option<Sleep>,
    duration: Duration,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(output) = self.future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let duration = self.duration;
        match self.deadline.as_mut() {
            Some(deadline) => Pin::new(deadline).poll(cx).map(|()| Err(Elapsed(duration))),
            None => Poll::Pending,
        }
    }
}
