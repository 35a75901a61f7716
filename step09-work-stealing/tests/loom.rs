//! The task state machine under `loom`, which runs each test body under every interleaving of
//! its threads that the memory model allows (not just the ones the OS happens to produce).
//!
//! Run: `RUSTFLAGS="--cfg step09_loom" cargo test -p step09-work-stealing --test loom --release`
//! (CI does, with its own target directory). Without `--cfg step09_loom` this file is empty.
//! (Not plain `--cfg loom`: RUSTFLAGS reach every crate, and tokio, which the testbed uses,
//! swaps its own internals for loom's under that name and drops its networking.)
//!
//! Each test is a property the runtime relies on; the last two check that loom *can* fail
//! here: the obvious version of the state machine, a `load` then a `store`, loses a wake and
//! queues a task twice, and loom finds both.
#![cfg(step09_loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use loom::thread;
use step09_work_stealing::runtime::state::{IDLE, NOTIFIED, RUNNING, SCHEDULED, State};

/// The two methods the race is about, so that both versions can be checked the same way.
trait Wakeable: Send + Sync + 'static {
    /// A task taken from a queue, about to be polled.
    fn running() -> Self;
    /// A wake; `true`: the caller queues the task.
    fn wake(&self) -> bool;
    /// The poll returned `Pending`; `true`: the poller queues the task again.
    fn finish_pending(&self) -> bool;
}

impl Wakeable for State {
    fn running() -> State {
        let state = State::scheduled();
        assert!(state.start_running());
        state
    }
    fn wake(&self) -> bool {
        State::wake(self)
    }
    fn finish_pending(&self) -> bool {
        State::finish_pending(self)
    }
}

// ANCHOR: naive
/// The obvious version: look, then set. Each step is atomic, the pair is not.
struct Naive(AtomicU8);

impl Wakeable for Naive {
    fn running() -> Naive {
        Naive(AtomicU8::new(RUNNING))
    }
    fn wake(&self) -> bool {
        match self.0.load(Ordering::Acquire) {
            IDLE => {
                self.0.store(SCHEDULED, Ordering::Release);
                true
            }
            RUNNING => {
                self.0.store(NOTIFIED, Ordering::Release);
                false
            }
            _ => false,
        }
    }
    fn finish_pending(&self) -> bool {
        if self.0.load(Ordering::Acquire) == NOTIFIED {
            self.0.store(SCHEDULED, Ordering::Release);
            true
        } else {
            self.0.store(IDLE, Ordering::Release);
            false
        }
    }
}
// ANCHOR_END: naive

// ANCHOR: wake_during_poll
/// A task is being polled while another thread makes its event happen (a socket becomes
/// ready) and wakes it. Either the poll saw the event, or the task is queued again: by the
/// waker or by the poller, never by both.
fn wake_during_poll<S: Wakeable>() {
    loom::model(|| {
        let state = Arc::new(S::running());
        let event = Arc::new(AtomicBool::new(false));
        let waker = {
            let (state, event) = (state.clone(), event.clone());
            thread::spawn(move || {
                event.store(true, Ordering::SeqCst);
                state.wake()
            })
        };
        let saw_event = event.load(Ordering::SeqCst); // the poll, which returns Pending
        let requeued = state.finish_pending();
        let queued_by_waker = waker.join().unwrap();
        assert!(!(requeued && queued_by_waker), "the task was queued twice");
        assert!(
            saw_event || requeued || queued_by_waker,
            "a lost wake: the poll missed the event and nobody queued the task"
        );
    });
}
// ANCHOR_END: wake_during_poll

/// Two threads wake an idle task at once: exactly one of them queues it.
fn two_wakers<S: Wakeable>() {
    loom::model(|| {
        let state = Arc::new(S::running());
        assert!(!state.finish_pending()); // polled, Pending, nobody woke it: idle
        let other = {
            let state = state.clone();
            thread::spawn(move || state.wake())
        };
        let here = state.wake();
        let there = other.join().unwrap();
        assert!(here ^ there, "queued {} times", here as u8 + there as u8);
    });
}

#[test]
fn a_wake_during_a_poll_is_never_lost() {
    wake_during_poll::<State>();
}

#[test]
fn two_wakes_queue_the_task_once() {
    two_wakers::<State>();
}

/// loom finds the lost wake of the load-then-store version.
#[test]
fn loom_finds_the_lost_wake_of_the_naive_version() {
    let found = std::panic::catch_unwind(wake_during_poll::<Naive>);
    assert!(
        found.is_err(),
        "loom should have found an interleaving that loses the wake"
    );
}

/// loom finds the double queueing of the load-then-store version.
#[test]
fn loom_finds_the_double_queueing_of_the_naive_version() {
    let found = std::panic::catch_unwind(two_wakers::<Naive>);
    assert!(
        found.is_err(),
        "loom should have found an interleaving that queues twice"
    );
}
