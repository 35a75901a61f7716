//! Step 6's semaphore for tasks on any thread: the same queue of tickets, first come first
//! served; its state behind a `Mutex` instead of `Cell`s, so that `Semaphore` is `Sync` and an
//! `Arc<Semaphore>` can be shared by tasks that different workers poll.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use testbed::lock;

/// The semaphore's state.
#[derive(Debug)]
struct Inner {
    /// Permits free right now.
    available: usize,
    /// Tasks waiting for a permit, in arrival order: (ticket, waker).
    waiting: VecDeque<(u64, Waker)>,
    /// The next ticket number.
    next_ticket: u64,
}

impl Inner {
    /// The first waiter's waker, if a permit is free for it (woken by the caller, after the
    /// lock: a waker may run code that uses this semaphore again).
    fn first_to_wake(&self) -> Option<Waker> {
        if self.available == 0 {
            return None;
        }
        self.waiting.front().map(|(_, waker)| waker.clone())
    }
}

// ANCHOR: semaphore
/// Hands out at most a fixed number of permits at a time.
#[derive(Debug)]
pub struct Semaphore {
    inner: Mutex<Inner>,
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
            inner: Mutex::new(Inner {
                available: permits,
                waiting: VecDeque::new(),
                next_ticket: 0,
            }),
        }
    }

    /// Waits for a permit.
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            ticket: None,
        }
    }

    /// Permits free right now.
    pub fn available(&self) -> usize {
        lock(&self.inner).available
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
        let mut inner = lock(&semaphore.inner);
        let our_turn = match self.ticket {
            None => inner.waiting.is_empty(),
            Some(ticket) => inner
                .waiting
                .front()
                .is_some_and(|(first, _)| *first == ticket),
        };
        if our_turn && inner.available > 0 {
            inner.available -= 1;
            if self.ticket.take().is_some() {
                inner.waiting.pop_front();
            }
            let next = inner.first_to_wake();
            drop(inner);
            next.into_iter().for_each(Waker::wake); // more permits may be free than one
            return Poll::Ready(Permit { semaphore });
        }
        match self.ticket {
            Some(ticket) => {
                if let Some(entry) = inner.waiting.iter_mut().find(|(t, _)| *t == ticket) {
                    entry.1.clone_from(cx.waker());
                }
            }
            None => {
                let ticket = inner.next_ticket;
                inner.next_ticket += 1;
                inner.waiting.push_back((ticket, cx.waker().clone()));
                self.ticket = Some(ticket);
            }
        }
        Poll::Pending
    }
}

impl Drop for Acquire<'_> {
    /// Given up while waiting: leave the queue, and if we were first, let the next in line
    /// have the permit we did not take.
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            let next = {
                let mut inner = lock(&self.semaphore.inner);
                let was_first = inner
                    .waiting
                    .front()
                    .is_some_and(|(first, _)| *first == ticket);
                inner.waiting.retain(|(t, _)| *t != ticket);
                was_first.then(|| inner.first_to_wake()).flatten()
            };
            next.into_iter().for_each(Waker::wake);
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let next = {
            let mut inner = lock(&self.semaphore.inner);
            inner.available += 1;
            inner.first_to_wake()
        };
        next.into_iter().for_each(Waker::wake);
    }
}
// ANCHOR_END: semaphore
