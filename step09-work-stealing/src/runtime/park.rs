//! Parking: how a worker with nothing to do sleeps without spinning, and without sleeping
//! through a wake.
//!
//! The danger is the gap between "I looked, every queue is empty" and "I am asleep": a task
//! queued in that gap, by a thread that saw nobody asleep yet, would wait until something
//! else woke a worker (maybe forever). So the parked-worker count goes up *before* the last
//! look at the queues, and the scheduler reads it *after* it queued; with a `SeqCst` fence on
//! each side, at least one of the two sees the other (the store-buffer pattern). The rest is
//! under one mutex: who sleeps on the condition variable, how many notifications are
//! unclaimed, and whether a worker is in `epoll_wait` (then the wake goes through the reactor's
//! eventfd instead). One more count saves wakes that would find nothing: while a woken worker
//! is still *searching*, queueing a task wakes nobody else (tokio keeps the same count).

use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::sync::{Condvar, Mutex, MutexGuard};

use testbed::lock;

/// Who is parked.
#[derive(Debug, Default)]
pub(crate) struct Idle {
    /// Workers asleep on the condition variable.
    pub(crate) sleeping: usize,
    /// Notifications sent and not yet claimed by a sleeper.
    pub(crate) notified: usize,
    /// A worker waits in the reactor.
    pub(crate) polling: bool,
}

/// The parking lot of one runtime's workers.
#[derive(Debug, Default)]
pub(crate) struct Parker {
    /// Who is parked, and how.
    idle: Mutex<Idle>,
    /// Where sleepers sleep.
    condvar: Condvar,
    /// How many workers are parked (asleep or polling): read without the lock, so that a
    /// busy runtime's wakes cost no lock at all.
    parked: AtomicUsize,
    /// How many workers were woken and are looking for work, not found yet. While one is,
    /// queueing a task wakes nobody more: the searcher will find it (or, if it finds another
    /// one first and was the last searcher, wake another worker for the rest). Without this,
    /// a busy echo server woke a sleeping worker for nearly every message, to find nothing.
    searching: AtomicUsize,
}

/// What an unpark asks of its caller.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unpark {
    /// Nothing: a sleeper was notified, or nobody is parked.
    Done,
    /// Wake the worker that waits in the reactor.
    WakePoller,
}

impl Parker {
    // ANCHOR: no_lost_wake
    /// Starts parking: counts this worker as parked, then returns the lock under which it
    /// must look at the queues one last time.
    pub(crate) fn begin(&self) -> MutexGuard<'_, Idle> {
        let idle = lock(&self.idle);
        self.parked.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst); // the count before the last look: see the module's comment
        idle
    }

    /// Work was queued: wakes one parked worker, if any is parked. Called after queueing.
    pub(crate) fn unpark_one(&self) -> Unpark {
        fence(Ordering::SeqCst); // the queueing before the look at the counts
        if self.searching.load(Ordering::SeqCst) > 0 {
            return Unpark::Done; // a woken worker is looking, and will look at the queues
        }
        if self.parked.load(Ordering::SeqCst) == 0 {
            return Unpark::Done; // everybody is busy, and will look at the queues
        }
        let mut idle = lock(&self.idle);
        if idle.sleeping > idle.notified {
            idle.notified += 1;
            self.condvar.notify_one();
            Unpark::Done
        } else if idle.polling {
            Unpark::WakePoller
        } else {
            Unpark::Done // parking, not yet asleep: it looks at the queues under this lock
        }
    }
    // ANCHOR_END: no_lost_wake

    /// Gives up parking (there was work after all), or ends it.
    pub(crate) fn end(&self) {
        self.parked.fetch_sub(1, Ordering::SeqCst);
    }

    /// Sleeps on the condition variable until notified (or `stop()` says so). Returns `true`
    /// if notified: the worker is then searching (see [`Parker::end_search`]).
    pub(crate) fn sleep(&self, mut idle: MutexGuard<'_, Idle>, stop: impl Fn() -> bool) -> bool {
        idle.sleeping += 1;
        let notified = loop {
            idle = self
                .condvar
                .wait(idle)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if idle.notified > 0 {
                idle.notified -= 1;
                self.searching.fetch_add(1, Ordering::SeqCst);
                break true;
            }
            if stop() {
                break false;
            }
        };
        idle.sleeping -= 1;
        // A sleeper that left without claiming its notification (it saw work, or shutdown)
        // must not leave it behind: an unclaimed one would make the next unpark think a
        // sleeper is already on its way.
        idle.notified = idle.notified.min(idle.sleeping);
        drop(idle);
        self.end();
        notified
    }

    /// A searching worker found a task, or gave up and is about to park (before its last look
    /// at the queues, so that a task queued while it searched is seen). Returns `true` if it
    /// was the last one searching.
    pub(crate) fn end_search(&self) -> bool {
        self.searching.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// Marks the poller done polling (under the lock).
    pub(crate) fn stop_polling(&self) {
        lock(&self.idle).polling = false;
    }

    /// Wakes every sleeper (shutdown).
    pub(crate) fn unpark_all(&self) {
        let _idle = lock(&self.idle);
        self.condvar.notify_all();
    }

    /// How many workers are parked now.
    pub(crate) fn parked(&self) -> usize {
        self.parked.load(Ordering::Relaxed)
    }
}
