//! A flag tasks on any thread can wait for: set once, and every waiter wakes. The graceful
//! echo server uses two: one tells the connections to stop (a *cancellation token*, as
//! `tokio_util` calls it), one tells the server the last connection has ended.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use testbed::lock;

/// The flag, and the tasks waiting for it.
#[derive(Debug, Default)]
pub struct Event {
    state: Mutex<(bool, Vec<Waker>)>,
}

impl Event {
    /// A new event, not set.
    pub fn new() -> Event {
        Event::default()
    }

    /// Sets it, and wakes every task waiting for it.
    pub fn set(&self) {
        let waiters = {
            let mut state = lock(&self.state);
            state.0 = true;
            std::mem::take(&mut state.1)
        };
        // After the lock: a woken task may run on another worker at once and look at this.
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Whether it is set.
    pub fn is_set(&self) -> bool {
        lock(&self.state).0
    }

    /// Waits until it is set. (The flag and the waiters share one lock, so a `set` between
    /// the check and the wait cannot be missed.)
    pub fn wait(&self) -> Wait<'_> {
        Wait { event: self }
    }
}

/// The future of [`Event::wait`]. A wait that is dropped leaves its waker behind, to be woken
/// once for nothing: harmless.
#[derive(Debug)]
pub struct Wait<'a> {
    event: &'a Event,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.event.state);
        if state.0 {
            return Poll::Ready(());
        }
        if !state.1.iter().any(|waker| waker.will_wake(cx.waker())) {
            state.1.push(cx.waker().clone());
        }
        Poll::Pending
    }
}
