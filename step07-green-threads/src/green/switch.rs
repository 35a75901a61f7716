//! The switch: how a green thread gives the thread back to the hub, from anywhere in its code.
//!
//! corosensei hands each coroutine a [`Yielder`] when it starts, as an argument, and
//! `yielder.suspend()` is the switch: it saves this stack's registers, restores the hub's, and
//! returns from the hub's `resume`. gevent's promise is that a `read` deep inside ordinary code
//! can switch without anyone passing a yielder down to it. So the running green thread's
//! yielder is kept in a thread-local, where [`switch_to_hub`] finds it.
//!
//! That is the one place this crate needs `unsafe`: the thread-local holds a raw pointer to a
//! value on the green thread's own stack, and Rust cannot check when such a pointer is valid.
//! The rules that make it valid are few and are kept in this file.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::task::Waker;

use corosensei::Yielder;

/// The yielder of a green thread: resumed with `()`, suspends with `()`.
pub(crate) type GreenYielder = Yielder<(), ()>;

/// The green thread running on this OS thread right now.
struct Running {
    /// Its yielder. Points into its own stack (see [`start`] for why that is sound).
    yielder: *const GreenYielder,
    /// Its waker: waking it queues it with the hub.
    waker: Waker,
}

thread_local! {
    /// The green thread running now; `None` while the hub (or plain code) runs.
    static RUNNING: RefCell<Option<Running>> = const { RefCell::new(None) };
}

/// Clears [`RUNNING`] when a green thread's code ends, by returning or by unwinding.
pub(crate) struct RunningGuard(());

impl Drop for RunningGuard {
    fn drop(&mut self) {
        RUNNING.with(|running| running.borrow_mut().take());
    }
}

// ANCHOR: switch_to_hub
/// Called first thing on a green thread's own stack: from now until the guard drops, whenever
/// this green thread runs, it is the running one.
///
/// The pointer stored here is valid exactly while it is stored: `yielder` lives in corosensei's
/// frame at the bottom of this green thread's stack, below every frame of the green thread's
/// code, and outlives them all; the guard removes the pointer before that frame ends. And the
/// pointer is only ever stored while *this* stack is the one executing: [`switch_to_hub`] takes
/// it out before switching away and puts it back after switching in.
pub(crate) fn start(yielder: &GreenYielder, waker: Waker) -> RunningGuard {
    RUNNING.with(|running| {
        let mut running = running.borrow_mut();
        assert!(running.is_none(), "a green thread started inside another");
        *running = Some(Running { yielder, waker });
    });
    RunningGuard(())
}

/// The running green thread's waker, or `None` if no green thread is running (plain code, or
/// the hub itself).
pub(crate) fn current_waker() -> Option<Waker> {
    RUNNING.with(|running| running.borrow().as_ref().map(|r| r.waker.clone()))
}

/// Suspends the running green thread and returns to the hub; returns when the hub resumes
/// this green thread. Panics if no green thread is running.
pub(crate) fn switch_to_hub() {
    let running = RUNNING
        .with(|running| running.borrow_mut().take())
        .expect("switch_to_hub outside a green thread");
    // SAFETY: `running.yielder` was stored by `start` on this very stack (we are executing on
    // the green thread it belongs to: only the running green thread's pointer is ever stored,
    // and we just took it), and the frame holding the yielder is below us on this stack, so it
    // is alive. We only borrow it for the call.
    let yielder = unsafe { &*running.yielder };
    // The switch: registers saved here, the hub's restored; the hub's `resume` returns.
    yielder.suspend(());
    // The hub resumed us: we are the running green thread again.
    RUNNING.with(|slot| *slot.borrow_mut() = Some(running));
}
// ANCHOR_END: switch_to_hub
