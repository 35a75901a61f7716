//! Timers on the ring: a timer is one more operation (`IORING_OP_TIMEOUT`) that completes when
//! its time is up, and `timeout` races a future against one, as step 6's does against a reactor
//! timer.
#![allow(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use io_uring::{opcode, types};

use crate::uring::op::Op;

/// A future ready at `deadline`. Like every future, it does nothing until first polled; then it
/// starts a timeout operation on the ring. Dropped early, the operation is cancelled.
pub struct Sleep {
    deadline: Instant,
    op: Option<Op<types::Timespec>>,
}

/// Ready at `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep { deadline, op: None }
}

/// Ready after `duration`.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.op.is_none() {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Poll::Ready(());
            }
            // SAFETY: the entry points to the timespec inside `keep`, which the ring holds
            // until the timeout completes.
            let started = unsafe {
                Op::start(types::Timespec::from(left), |ts| {
                    opcode::Timeout::new(ts).build()
                })
            };
            match started {
                Ok(op) => self.op = Some(op),
                Err((e, _)) => panic!("a timer could not be started on the ring: {e}"),
            }
        }
        let op = self.op.as_mut().expect("started above");
        match Pin::new(op).poll(cx) {
            // The kernel's answer when the time is up is ETIME: that is the success here.
            Poll::Ready((Err(e), _)) if e.raw_os_error() == Some(libc::ETIME) => Poll::Ready(()),
            Poll::Ready((Ok(_), _)) => Poll::Ready(()),
            Poll::Ready((Err(e), _)) => panic!("the ring's timer failed: {e}"),
            Poll::Pending => Poll::Pending,
        }
    }
}

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
