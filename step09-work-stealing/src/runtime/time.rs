//! Timers: step 5's `Sleep`, on the shared reactor, and step 6's `timeout` with it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use step05_futures::timers::TimerKey;
use step06_async_await::timeout::Timeout;

use super::worker::{Shared, current};

/// Ready at its deadline.
pub struct Sleep {
    /// When.
    deadline: Instant,
    /// Its timer, once polled.
    timer: Option<(Arc<Shared>, TimerKey)>,
}

impl Sleep {
    /// Ready at `deadline`.
    pub fn until(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            timer: None,
        }
    }
}

/// Ready `duration` from now.
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
            let shared =
                current().expect("no runtime on this thread: sleep inside step 9's runtime");
            let key = shared.reactor.add_timer(self.deadline);
            self.timer = Some((shared, key));
        }
        let (shared, key) = self.timer.as_ref().expect("registered above");
        shared.reactor.poll_timer(*key, cx)
    }
}

impl Sleep {
    /// Leaves the reactor's timers.
    fn cancel(&mut self) {
        if let Some((shared, key)) = self.timer.take() {
            shared.reactor.remove_timer(key);
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Runs `future` for at most `duration`: step 6's `Timeout`, with this runtime's timer.
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F, Sleep> {
    let deadline = Instant::now().checked_add(duration).map(Sleep::until);
    Timeout::with_deadline(future, deadline, duration)
}
