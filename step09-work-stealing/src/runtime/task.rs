//! A task: a future that any worker may poll, and the waker that any thread may call.
//!
//! Step 5's task lived in its executor's map, and its waker held only its id. Here the task
//! *is* its waker (`Arc<Task>` with [`std::task::Wake`]): a wake must be able to reach the
//! task from any thread without looking it up in a table that other threads are changing.
//! So everything in it is shared across threads: the future behind a mutex (never contended:
//! the state machine lets one worker at a time in), the state in an atomic, and the runtime
//! behind a `Weak`, so that a waker kept somewhere after the runtime is gone wakes nothing.
//! The task also keeps its own output for its `JoinHandle` (type-erased: the handle knows the
//! type), so that a task costs two allocations, itself and its boxed future, not three.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, resume_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};

use futures::FutureExt;
use testbed::lock;

use super::live::TaskKey;
use super::state::State;
use super::worker::Shared;

/// A task's output, its type erased (its `JoinHandle` knows it), or the panic that ended it.
pub(crate) type Output = std::thread::Result<Box<dyn Any + Send>>;

/// A task's future, type-erased; `Send`, since any worker may poll it.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = Output> + Send>>;

// ANCHOR: task
/// A spawned task.
pub(crate) struct Task {
    /// Idle, scheduled, running, notified, complete.
    pub(crate) state: State,
    /// The future; `None` once it is done (or dropped at shutdown).
    pub(crate) future: Mutex<Option<BoxFuture>>,
    /// Its key in the runtime's table of live tasks.
    pub(crate) key: TaskKey,
    /// The runtime it belongs to.
    pub(crate) shared: Weak<Shared>,
    /// Its output, once it is done, and the waker of its `JoinHandle`, if that waits.
    pub(crate) join: Mutex<Join>,
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

/// Where a task's output waits for its `JoinHandle`.
#[derive(Default)]
pub(crate) struct Join {
    /// Set when the task has finished.
    output: Option<Output>,
    /// The `JoinHandle`'s waker, if it is waiting.
    waker: Option<Waker>,
}

impl Task {
    /// The task is done: keeps its output for the handle, and wakes the handle.
    pub(crate) fn finish(&self, output: Output) {
        let waker = {
            let mut join = lock(&self.join);
            join.output = Some(output);
            join.waker.take()
        };
        // Under the lock the handle takes to look: no wake falls between; woken after it.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// `future`, boxed, with its output type erased and its panic caught (one task's panic must
/// not take its worker thread down): what a task holds.
pub(crate) fn erase<F>(future: F) -> BoxFuture
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Box::pin(
        AssertUnwindSafe(future)
            .catch_unwind()
            .map(|result| result.map(|output| Box::new(output) as Box<dyn Any + Send>)),
    )
}

/// Waits for a spawned task's output. Dropping it detaches the task (it runs on).
pub struct JoinHandle<T> {
    /// The task; its output is in `task.join`.
    task: Arc<Task>,
    /// The output's type, which the task has forgotten.
    output: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

impl<T> JoinHandle<T> {
    /// The handle of `task`, whose output is a `T`.
    pub(crate) fn new(task: Arc<Task>) -> JoinHandle<T> {
        JoinHandle {
            task,
            output: PhantomData,
        }
    }

    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        lock(&self.task.join).output.is_some()
    }
}

impl<T: 'static> Future for JoinHandle<T> {
    type Output = T;

    /// The task's output. If the task panicked, the panic goes on here, in the task that
    /// waits for it (as `std::thread::JoinHandle::join().unwrap()` would).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut join = lock(&self.task.join);
        match join.output.take() {
            Some(Ok(output)) => match output.downcast::<T>() {
                Ok(output) => Poll::Ready(*output),
                Err(_) => unreachable!("a task's output has the type its JoinHandle names"),
            },
            Some(Err(panic)) => {
                drop(join);
                resume_unwind(panic)
            }
            None => {
                join.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
