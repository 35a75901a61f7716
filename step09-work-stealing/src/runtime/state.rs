//! A task's state, in one atomic byte: the reason a task is never polled by two threads at
//! once, and a wake that comes during a poll is never lost.
//!
//! Step 5's executor had one thread: a task was either in the queue or not, and a `HashSet` of
//! queued ids was enough. Here a task's waker can be called from any thread at any moment: by
//! the worker that polls the reactor, by another task, by a blocking-pool thread, *while* the
//! task is being polled on a third thread. Five states, and every move between them a single
//! compare-and-swap:
//!
//! ```text
//!            wake                 start_running
//!   IDLE ─────────────▶ SCHEDULED ─────────────▶ RUNNING ──── Ready ───▶ COMPLETE
//!    ▲   (the waker queues it)                   │   │
//!    │                                           │   │ wake (the poller will requeue it)
//!    └──────────── Pending, no wake meanwhile ───┘   ▼
//!                                  SCHEDULED ◀── NOTIFIED
//!                  (Pending, woken meanwhile: the poller queues it)
//! ```
//!
//! Exactly one party moves a task into SCHEDULED, and that party, only, puts it in a queue.
//! The test `tests/loom.rs` lets `loom` try every interleaving of a waker and a poller (and of
//! two wakers) on these methods, and shows that the obvious version with a `load` and a
//! `store` loses a wake.

#[cfg(step09_loom)]
use loom::sync::atomic::{AtomicU8, Ordering};
#[cfg(not(step09_loom))]
use std::sync::atomic::{AtomicU8, Ordering};

/// Waiting for a wake; in no queue.
pub const IDLE: u8 = 0;
/// In a run queue (exactly once), waiting for a worker.
pub const SCHEDULED: u8 = 1;
/// Being polled by one worker.
pub const RUNNING: u8 = 2;
/// Being polled, and woken meanwhile: must be polled again.
pub const NOTIFIED: u8 = 3;
/// Finished; wakes are ignored.
pub const COMPLETE: u8 = 4;

// ANCHOR: state
/// A task's state (one of the constants above).
#[derive(Debug)]
pub struct State(AtomicU8);

impl State {
    /// A new task, about to be put in a queue by its spawner.
    pub fn scheduled() -> State {
        State(AtomicU8::new(SCHEDULED))
    }

    /// A wake. Returns `true` if the caller must queue the task: it was idle, and this wake
    /// is the one that scheduled it. A task already queued, or notified, needs nothing more;
    /// a running one is marked NOTIFIED, and the worker polling it will queue it again.
    pub fn wake(&self) -> bool {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let next = match current {
                IDLE => SCHEDULED,
                RUNNING => NOTIFIED,
                _ => return false, // SCHEDULED, NOTIFIED, COMPLETE: nothing to do
            };
            // Only if nobody changed it since we looked; if somebody did, look again.
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return next == SCHEDULED,
                Err(actual) => current = actual,
            }
        }
    }

    /// A worker took the task from a queue and is about to poll it. `false` if it was not
    /// scheduled (it cannot happen while every queueing goes through `wake`; the worker then
    /// leaves it alone).
    pub fn start_running(&self) -> bool {
        self.0
            .compare_exchange(SCHEDULED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The poll returned `Pending`. Returns `true` if the task was woken during the poll:
    /// the worker must queue it again (it is SCHEDULED now). Otherwise it is IDLE, and the
    /// next wake will queue it.
    pub fn finish_pending(&self) -> bool {
        match self
            .0
            .compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => false,
            Err(NOTIFIED) => {
                // Only this worker moves a task out of NOTIFIED: a plain store is enough.
                self.0.store(SCHEDULED, Ordering::Release);
                true
            }
            Err(other) => unreachable!("a running task found in state {other}"),
        }
    }

    /// The poll returned `Ready`: the task is done, and later wakes do nothing.
    pub fn complete(&self) {
        self.0.store(COMPLETE, Ordering::Release);
    }

    /// The state now (for tests and the task dump).
    pub fn get(&self) -> u8 {
        self.0.load(Ordering::Acquire)
    }
}
// ANCHOR_END: state
