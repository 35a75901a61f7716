//! An event for one thread's tasks: any number wait until one of them sets it.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

// ANCHOR: event
/// Starts unset; `set` wakes every waiter, and later waits return at once.
#[derive(Debug, Default)]
pub struct Event {
    /// Whether it has been set.
    set: Cell<bool>,
    /// The wakers of the tasks waiting, by waiter number.
    waiting: RefCell<Vec<(u64, Waker)>>,
    /// The next waiter number.
    next: Cell<u64>,
}

impl Event {
    /// A new, unset event.
    pub fn new() -> Event {
        Event::default()
    }

    /// Sets the event and wakes everyone waiting for it.
    pub fn set(&self) {
        self.set.set(true);
        let waiting = std::mem::take(&mut *self.waiting.borrow_mut());
        for (_, waker) in waiting {
            waker.wake();
        }
    }

    /// Whether it has been set.
    pub fn is_set(&self) -> bool {
        self.set.get()
    }

    /// Waits until the event is set.
    ///
    /// Cancel safe: the event's state is in the event, and a `Wait` dropped while it waits
    /// only takes its waker back; a later wait sees the `set` it missed
    /// (`cancellation/tests/primitives.rs`).
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            event: self,
            number: None,
        }
    }
}

/// The future of [`Event::wait`].
#[derive(Debug)]
pub struct Wait<'a> {
    event: &'a Event,
    /// Our entry among the waiters, once we have had to wait.
    number: Option<u64>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.event.set.get() {
            self.number = None;
            return Poll::Ready(());
        }
        let event = self.event;
        let mut waiting = event.waiting.borrow_mut();
        match self.number {
            Some(number) => {
                if let Some(entry) = waiting.iter_mut().find(|(n, _)| *n == number) {
                    entry.1.clone_from(cx.waker());
                }
            }
            None => {
                let number = event.next.get();
                event.next.set(number + 1);
                waiting.push((number, cx.waker().clone()));
                self.number = Some(number);
            }
        }
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    /// Given up while waiting: take our waker back.
    fn drop(&mut self) {
        if let Some(number) = self.number {
            self.event
                .waiting
                .borrow_mut()
                .retain(|(n, _)| *n != number);
        }
    }
}
// ANCHOR_END: event
