//! A task group: structured concurrency in the small.
//!
//! `spawn` starts a task that nobody has to wait for: it can outlive the code that started it,
//! and if it fails, nobody hears. A group gives its tasks an owner. Children are spawned *into*
//! the group; [`TaskGroup::join`] waits until every child has finished; the first child to
//! fail cancels its siblings, and `join` returns that error; and dropping the group cancels
//! whatever is still running, so no child outlives the code that owns the group.
//! [`TaskGroup::join_within`] is the graceful version: wait for the children until a deadline,
//! then cancel the rest, and say how many were which.
//!
//! asyncio's `TaskGroup` (Python 3.11) and trio's nurseries work the same way, with the
//! group as an `async with` block; here the block is the group's owner, and its end is
//! `join` (or the drop).

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use futures::FutureExt as _;
use slab::Slab;
use step05_futures::{JoinHandle, spawn};

use crate::timeout::timeout;

// ANCHOR: group
/// A group of tasks that ends together. Children return `Result<(), E>`; the first `Err`
/// cancels the others.
pub struct TaskGroup<E> {
    /// What the children share with the group.
    state: Rc<RefCell<Group<E>>>,
}

/// The group's state.
struct Group<E> {
    /// The children still running, with the number each was given (a place in the slab is
    /// reused; the number is not).
    live: Slab<(u64, JoinHandle<()>)>,
    /// Children spawned so far.
    spawned: u64,
    /// Children that ran to their end (successfully or not).
    finished: usize,
    /// Children cancelled before their end.
    cancelled: usize,
    /// The first child's error, until a `join` hands it out.
    error: Option<E>,
    /// The tasks waiting in `join`, to wake when the last child finishes or one fails.
    joiners: Vec<Waker>,
}
// ANCHOR_END: group

/// How a [`TaskGroup::join_within`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// Children that finished during the wait (any spawned meanwhile included).
    pub finished: usize,
    /// Children cancelled: still running at the deadline, or when a sibling failed.
    pub cut: usize,
}

impl<E: 'static> Default for TaskGroup<E> {
    fn default() -> TaskGroup<E> {
        TaskGroup::new()
    }
}

impl<E: 'static> TaskGroup<E> {
    /// An empty group.
    pub fn new() -> TaskGroup<E> {
        TaskGroup {
            state: Rc::new(RefCell::new(Group {
                live: Slab::new(),
                spawned: 0,
                finished: 0,
                cancelled: 0,
                error: None,
                joiners: Vec::new(),
            })),
        }
    }

    // ANCHOR: spawn
    /// Starts `child` as a task of the current runtime, owned by this group.
    pub fn spawn(&self, child: impl Future<Output = Result<(), E>> + 'static) {
        let (place, number) = {
            let mut group = self.state.borrow_mut();
            group.spawned += 1;
            (group.live.vacant_key(), group.spawned)
        };
        let state = Rc::clone(&self.state);
        // `map` rather than an `async` block that awaits `child`: such a block keeps room for
        // the child twice (once as captured, once as awaited), and a group of thousands of
        // children would pay for it in memory.
        let handle = spawn(child.map(move |result| {
            let mut group = state.borrow_mut();
            // Leave the group. (Its own handle is dropped here: that only detaches.)
            if group.live.get(place).is_some_and(|(n, _)| *n == number) {
                group.live.remove(place);
            }
            group.finished += 1;
            if let Err(e) = result {
                group.error.get_or_insert(e);
            }
            let joiners = if group.live.is_empty() || group.error.is_some() {
                std::mem::take(&mut group.joiners)
            } else {
                Vec::new()
            };
            drop(group);
            joiners.into_iter().for_each(Waker::wake);
        }));
        let mut group = self.state.borrow_mut();
        let at = group.live.insert((number, handle));
        debug_assert_eq!(at, place, "nothing else entered the group in between");
    }
    // ANCHOR_END: spawn

    /// How many children are running.
    pub fn len(&self) -> usize {
        self.state.borrow().live.len()
    }

    /// Whether no child is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many children ran to their end so far.
    pub fn finished(&self) -> usize {
        self.state.borrow().finished
    }

    // ANCHOR: join
    /// Waits until every child has finished, and returns how many did. If a child fails,
    /// cancels the others at once and returns its error. (The error is handed out once: a
    /// later `join` finds the others cancelled, and returns `Ok`.)
    ///
    /// Cancel safe: dropping the wait leaves the children running (the group still owns
    /// them), and a later `join` picks up where it left off.
    pub async fn join(&self) -> Result<usize, E> {
        std::future::poll_fn(|cx| {
            let mut group = self.state.borrow_mut();
            if let Some(error) = group.error.take() {
                drop(group);
                self.cancel();
                return Poll::Ready(Err(error));
            }
            if group.live.is_empty() {
                return Poll::Ready(Ok(group.finished));
            }
            if !group.joiners.iter().any(|w| w.will_wake(cx.waker())) {
                group.joiners.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
    // ANCHOR_END: join

    // ANCHOR: join_within
    /// Waits for the children until `grace` has passed, then cancels those still running:
    /// how a server shuts down without cutting the connections that finish in time. A child's
    /// error ends the wait early (its siblings cancelled) and is returned.
    pub async fn join_within(&self, grace: Duration) -> Result<Ended, E> {
        let (finished, cancelled) = self.counts();
        let joined = timeout(grace, self.join()).await;
        self.cancel();
        if let Ok(Err(error)) = joined {
            return Err(error);
        }
        let (finished_now, cancelled_now) = self.counts();
        Ok(Ended {
            finished: finished_now - finished,
            cut: cancelled_now - cancelled,
        })
    }

    /// Children finished and cancelled so far.
    fn counts(&self) -> (usize, usize) {
        let group = self.state.borrow();
        (group.finished, group.cancelled)
    }
    // ANCHOR_END: join_within
}

impl<E> TaskGroup<E> {
    /// Cancels every child still running (each is dropped at the `.await` where it waits, or
    /// right after its current poll), and returns how many there were.
    pub fn cancel(&self) -> usize {
        // Taken out of the borrow first: a cancelled child's destructors may use the group.
        let live = {
            let mut group = self.state.borrow_mut();
            group.cancelled += group.live.len();
            std::mem::take(&mut group.live)
        };
        let cut = live.len();
        for (_, (_, handle)) in live {
            handle.abort();
        }
        cut
    }
}

impl<E> Drop for TaskGroup<E> {
    /// No child outlives its group: the ones still running are cancelled.
    fn drop(&mut self) {
        self.cancel();
    }
}
