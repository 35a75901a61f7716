//! The cooperative budget: a task may finish at most [`BUDGET`] I/O operations per poll.
//!
//! A task only gives its worker back at an `.await` that returns `Pending`. A connection
//! whose socket is always ready (a client that keeps sending) never meets one: its echo loop
//! reads and writes forever inside one poll, and every other task on that worker waits.
//! Step 6's echo server calls `yield_now` by hand every 32 rounds; tokio, and this runtime,
//! do it for the task instead: each poll starts with a budget, each finished operation spends
//! one, and an operation that finds the budget spent says `Pending` (after waking its own
//! task, which goes to the back of the queue) even though the socket is ready.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations per poll of a task (tokio's number).
pub const BUDGET: u32 = 128;

thread_local! {
    /// What is left of the running task's budget; `None` outside a worker's poll (in
    /// `block_on`, or with the budget turned off): unlimited.
    static LEFT: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Gives the task about to be polled on this thread a fresh budget (`None`: unlimited).
pub(crate) fn reset(budget: Option<u32>) {
    LEFT.with(|left| left.set(budget));
}

// ANCHOR: budget
/// Called by every I/O operation before it tries: `Pending` if the task has used up its
/// budget (its waker is woken first, so it will be polled again, after the others).
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    if LEFT.with(Cell::get) == Some(0) {
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    Poll::Ready(())
}

/// Called by an I/O operation that finished (was ready): it spends one unit.
pub fn spend() {
    LEFT.with(|left| left.set(left.get().map(|n| n.saturating_sub(1))));
}
// ANCHOR_END: budget
