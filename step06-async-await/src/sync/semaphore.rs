//! A semaphore for one thread's tasks: at most `permits` holders at a time; the others wait,
//! first come, first served.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

// ANCHOR: semaphore
/// Hands out at most a fixed number of permits at a time.
#[derive(Debug)]
pub struct Semaphore {
    /// Permits free right now.
    available: Cell<usize>,
    /// Tasks waiting for a permit, in arrival order: (ticket, waker).
    waiting: RefCell<VecDeque<(u64, Waker)>>,
    /// The next ticket number.
    next_ticket: Cell<u64>,
}

/// A permit; it goes back to the semaphore when dropped.
#[derive(Debug)]
pub struct Permit<'a> {
    semaphore: &'a Semaphore,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            available: Cell::new(permits),
            waiting: RefCell::new(VecDeque::new()),
            next_ticket: Cell::new(0),
        }
    }

    /// Waits for a permit, first come first served.
    ///
    /// Cancel safe as to permits: an `Acquire` dropped while it waits leaves the queue, and if
    /// it had been woken for a permit, passes the wake on (`tests/sync.rs`); no permit leaks
    /// (`cancellation/tests/queue.rs`). It loses its place, though: asking again queues last.
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            ticket: None,
        }
    }

    /// Permits free right now.
    pub fn available(&self) -> usize {
        self.available.get()
    }

    /// Wakes the first waiter, if a permit is free for it.
    fn wake_first(&self) {
        if self.available.get() == 0 {
            return;
        }
        // Take the waker out of the queue's borrow before waking: a waker may run code that
        // uses this semaphore again.
        let first = self
            .waiting
            .borrow()
            .front()
            .map(|(_, waker)| waker.clone());
        if let Some(waker) = first {
            waker.wake();
        }
    }
}

/// The future of [`Semaphore::acquire`].
#[derive(Debug)]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    /// Our place in the queue, once we have had to wait.
    ticket: Option<u64>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Permit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let semaphore = self.semaphore;
        let mut waiting = semaphore.waiting.borrow_mut();
        // First come, first served: a permit goes to us only if nobody queued before us.
        let our_turn = match self.ticket {
            None => waiting.is_empty(),
            Some(ticket) => waiting.front().is_some_and(|(first, _)| *first == ticket),
        };
        if our_turn && semaphore.available.get() > 0 {
            semaphore.available.set(semaphore.available.get() - 1);
            if self.ticket.take().is_some() {
                waiting.pop_front();
            }
            drop(waiting);
            // More permits may be free than one: let the next in line look.
            semaphore.wake_first();
            return Poll::Ready(Permit { semaphore });
        }
        match self.ticket {
            Some(ticket) => {
                if let Some(entry) = waiting.iter_mut().find(|(t, _)| *t == ticket) {
                    entry.1.clone_from(cx.waker());
                }
            }
            None => {
                let ticket = semaphore.next_ticket.get();
                semaphore.next_ticket.set(ticket + 1);
                waiting.push_back((ticket, cx.waker().clone()));
                self.ticket = Some(ticket);
            }
        }
        Poll::Pending
    }
}

impl Drop for Acquire<'_> {
    /// Given up while waiting (a timeout, say): leave the queue, and if we were first, let the
    /// next in line have the permit we did not take.
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            let was_first = {
                let mut waiting = self.semaphore.waiting.borrow_mut();
                let was_first = waiting.front().is_some_and(|(first, _)| *first == ticket);
                waiting.retain(|(t, _)| *t != ticket);
                was_first
            };
            if was_first {
                self.semaphore.wake_first();
            }
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.semaphore
            .available
            .set(self.semaphore.available.get() + 1);
        self.semaphore.wake_first();
    }
}
// ANCHOR_END: semaphore

// ANCHOR: more
impl Semaphore {
    /// A permit now, if one is free and nobody is waiting for one (first come, first served
    /// still); `None` otherwise. Never waits.
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        if self.available.get() == 0 || !self.waiting.borrow().is_empty() {
            return None;
        }
        self.available.set(self.available.get() - 1);
        Some(Permit { semaphore: self })
    }

    /// Adds `n` permits (a queue counts its items this way: one permit per item).
    pub fn add_permits(&self, n: usize) {
        self.available.set(self.available.get() + n);
        self.wake_first();
    }

    /// Waits for a permit that owns a share of the semaphore, so that it can go where a
    /// borrow cannot: into a spawned task, or along with a job through a queue.
    pub async fn acquire_owned(self: Rc<Self>) -> OwnedPermit {
        self.acquire().await.forget();
        OwnedPermit { semaphore: self }
    }

    /// An owned permit now, if [`try_acquire`](Semaphore::try_acquire) would give one.
    pub fn try_acquire_owned(self: &Rc<Self>) -> Option<OwnedPermit> {
        self.try_acquire()?.forget();
        Some(OwnedPermit {
            semaphore: Rc::clone(self),
        })
    }
}

impl Permit<'_> {
    /// Keeps the permit taken for good: it does not come back when this is dropped. (A queue
    /// uses it: taking an item's permit is taking the item.)
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

/// A permit that owns a share of its semaphore ([`Semaphore::acquire_owned`]); it goes back
/// when dropped.
#[derive(Debug)]
pub struct OwnedPermit {
    semaphore: Rc<Semaphore>,
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        self.semaphore.add_permits(1);
    }
}
// ANCHOR_END: more
