//! A task: a future that any worker may poll, and the waker that any thread may call.
//!
//! Step 5's task lived in its executor's map, and its waker held only its id. Here the task
//! *is* its waker (`Arc<Task>` with [`std::task::Wake`]): a wake must be able to reach the
//! task from any thread without looking it up in a table that other threads are changing.
//! So everything in it is shared across threads: the future behind a mutex (never contended:
//! the state machine lets one worker at a time in), the state in an atomic, and the runtime
//! behind a `Weak`, so that a waker kept somewhere after the runtime is gone wakes nothing.

use std::future::Future;
use std::panic::{AssertUnwindSafe, resume_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};

use futures::FutureExt;
use testbed::lock;

use super::state::State;
use super::worker::Shared;

/// A task's future, type-erased; `Send`, since any worker may poll it.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

// ANCHOR: task
/// A spawned task.
pub(crate) struct Task {
    /// Idle, scheduled, running, notified, complete.
    pub(crate) state: State,
    /// The future; `None` once it is done (or dropped at shutdown).
    pub(crate) future: Mutex<Option<BoxFuture>>,
    /// Its key in the runtime's table of live tasks.
    pub(crate) key: usize,
    /// The runtime it belongs to.
    pub(crate) shared: Weak<Shared>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        // Only the wake that moves the task to SCHEDULED queues it: once, from any thread.
        if self.state.wake()
            && let Some(shared) = self.shared.upgrade()
        {
            shared.schedule(self);
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.state.wake()
            && let Some(shared) = self.shared.upgrade()
        {
            shared.schedule(Arc::clone(self));
        }
    }
}
// ANCHOR_END: task

/// A task's output (or panic), and the waker of whoever waits for it.
struct JoinState<T> {
    /// Set when the task has finished.
    result: Option<std::thread::Result<T>>,
    /// The `JoinHandle`'s waker, if it is waiting.
    waker: Option<Waker>,
}

/// Waits for a spawned task's output. Dropping it detaches the task (it runs on).
pub struct JoinHandle<T> {
    /// Shared with the task.
    state: Arc<Mutex<JoinState<T>>>,
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

impl<T> JoinHandle<T> {
    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        lock(&self.state).result.is_some()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    /// The task's output. If the task panicked, the panic goes on here, in the task that
    /// waits for it (as `std::thread::JoinHandle::join().unwrap()` would).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = lock(&self.state);
        match state.result.take() {
            Some(Ok(output)) => Poll::Ready(output),
            Some(Err(panic)) => {
                drop(state);
                resume_unwind(panic)
            }
            None => {
                // Under the lock the task takes to store its result: no wake falls between.
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// `future` wrapped to put its output (or its panic: one task's panic must not take its
/// worker thread down) where its `JoinHandle` finds it.
pub(crate) fn with_join_handle<F>(future: F) -> (BoxFuture, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let state = Arc::new(Mutex::new(JoinState {
        result: None,
        waker: None,
    }));
    let done = Arc::clone(&state);
    let task = async move {
        let result = AssertUnwindSafe(future).catch_unwind().await;
        let waker = {
            let mut state = lock(&done);
            state.result = Some(result);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    };
    (Box::pin(task), JoinHandle { state })
}
