//! A flag tasks on any thread can wait for: set once, and every waiter wakes. The graceful
//! echo server uses two: one tells the connections to stop (a *cancellation token*, as
//! `tokio_util` calls it), one tells the server the last connection has ended.
//!
//! Every connection waits on the token for its whole life, and most end without it ever being
//! set: so a wait that ends, or is dropped, takes its waker out (it has a place in a slab), and
//! a poll costs one lock and no search, however many connections have come and gone.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use slab::Slab;
use testbed::lock;

/// The flag, and the tasks waiting for it.
#[derive(Debug, Default)]
pub struct Event {
    state: Mutex<State>,
}

/// Behind the lock: the flag and the waiters share it, so a `set` between a waiter's check
/// and its registration cannot be missed.
#[derive(Debug, Default)]
struct State {
    set: bool,
    waiters: Slab<Waker>,
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
            state.set = true;
            std::mem::take(&mut state.waiters)
        };
        // After the lock: a woken task may run on another worker at once and look at this.
        waiters.into_iter().for_each(|(_, waker)| waker.wake());
    }

    /// Whether it is set.
    pub fn is_set(&self) -> bool {
        lock(&self.state).set
    }

    /// How many waits are registered now (for tests).
    pub fn waiting(&self) -> usize {
        lock(&self.state).waiters.len()
    }

    /// Waits until it is set.
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            event: self,
            place: None,
        }
    }
}

/// The future of [`Event::wait`].
#[derive(Debug)]
pub struct Wait<'a> {
    event: &'a Event,
    /// Its waker's place among the waiters, once it has waited.
    place: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let event = self.event;
        let mut state = lock(&event.state);
        if state.set {
            // `set` took every waker already: our place is gone with them.
            self.place = None;
            return Poll::Ready(());
        }
        match self.place {
            Some(place) => state.waiters[place].clone_from(cx.waker()),
            None => self.place = Some(state.waiters.insert(cx.waker().clone())),
        }
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    /// Given up before the event was set: take the waker out.
    fn drop(&mut self) {
        if let Some(place) = self.place.take() {
            let mut state = lock(&self.event.state);
            // If the event was set meanwhile, `set` has emptied the slab.
            if !state.set {
                state.waiters.try_remove(place);
            }
        }
    }
}
