//! The executor: the part of the runtime that polls futures.
//!
//! It keeps the spawned tasks, and a queue of the ones that asked to be polled (were woken).
//! `block_on` runs the loop: poll whatever is queued; when nothing is, let the reactor wait for
//! the kernel (which wakes more tasks); repeat until the main future is done.
//!
//! A [`Waker`] here is a small value ([`TaskWaker`], in `run_queue.rs`) holding a task's id and
//! the queue. Waking it puts the id in the queue, once, and, if the loop is asleep in the
//! reactor, interrupts the reactor, since a waker may be used from another thread. Because it
//! only holds thread-safe things, it can be built with `std::task::Wake`, in safe code, even
//! though the tasks themselves (which may hold `Rc`s) stay on their thread. (`raw_waker.rs`
//! shows the same thing built by hand.)
//!
//! If the kernel refuses the reactor its epoll instance (the process is out of descriptors),
//! `block_on` panics, as tokio's runtime builder would be `unwrap`ped in a `main`: it has no
//! error to return beside the future's output. Step 7's hub does the same (the workspace's
//! policy, in `testbed::variants`).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::reactor::Reactor;
use crate::runtime::run_queue::{Driver, Interrupt, MAIN, RunQueue, TaskWaker, shown};
use crate::trace::trace;

/// How many polls the executor makes before it asks the kernel for news again, even if tasks
/// are still queued: a bound on how long I/O and timers can be kept waiting.
const POLLS_BETWEEN_TURNS: usize = 128;

/// A spawned task: its future (absent while it is being polled) and its waker.
struct Task {
    /// Its id (see [`Executor::tasks`]).
    id: u64,
    /// How many times it has been polled, and when its last poll ended (or it was spawned):
    /// for a task dump.
    polls: u64,
    idle_since: Instant,
    /// The future, type-erased. `Pin<Box<_>>` because a future may not move once polled.
    future: Option<Pin<Box<dyn Future<Output = ()>>>>,
    /// The task's waker, made once.
    waker: Arc<TaskWaker>,
}

/// The executor's state.
struct Executor {
    /// The tasks not finished yet. A task's id is its place here (the high 32 bits) and how
    /// many tasks were spawned before it (the low 32 bits, which traces show): a place is
    /// reused once its task has finished, but an id only after 2^32 more spawns, so a late
    /// wake does not reach the task in its place.
    tasks: Slab<Task>,
    /// How many tasks have been spawned.
    spawned: u64,
    /// The queue of woken tasks, shared with their wakers.
    queue: RunQueue,
}

thread_local! {
    /// The executor of the runtime running on this thread, for `spawn`.
    static EXECUTOR: RefCell<Option<Rc<RefCell<Executor>>>> = const { RefCell::new(None) };
}

// ANCHOR: spawned
/// The output of a task, shared between the task and its `JoinHandle`.
struct JoinState<T> {
    /// The output, once the task has finished (until the handle takes it).
    output: Option<T>,
    /// The handle's waker, if it is waiting.
    waker: Option<Waker>,
}

pin_project_lite::pin_project! {
    /// A spawned future, with where to put its output. The future is kept in place, inside
    /// the one box the task is (`#[pin]` lets `poll` reach it pinned: see the Pin chapter).
    struct Spawned<F: Future> {
        // The task's own future.
        #[pin]
        future: F,
        // Where its output goes.
        state: Rc<RefCell<JoinState<F::Output>>>,
    }
}

impl<F: Future> Future for Spawned<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let output = match this.future.poll(cx) {
            Poll::Ready(output) => output,
            Poll::Pending => return Poll::Pending,
        };
        let waker = {
            let mut state = this.state.borrow_mut();
            state.output = Some(output);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Poll::Ready(())
    }
}
// ANCHOR_END: spawned

// ANCHOR: join_handle
/// A spawned task's output, to come: itself a future. Dropping it does not stop the task.
///
/// Awaiting `&mut handle` is cancel safe: the output waits in the handle until a later poll
/// takes it (`cancellation/tests/primitives.rs`). Dropping the handle itself detaches the
/// task, and its output is thrown away when it comes.
pub struct JoinHandle<T> {
    state: Rc<RefCell<JoinState<T>>>,
    /// The task's id and its executor, for [`JoinHandle::abort`].
    task: (u64, Weak<RefCell<Executor>>),
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.state.borrow_mut();
        match state.output.take() {
            Some(output) => Poll::Ready(output),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
// ANCHOR_END: join_handle

// ANCHOR: abort
impl<T> JoinHandle<T> {
    /// Cancels the task: drops its future, at once if it is waiting (its destructors run, as
    /// if it had been dropped at the `.await` where it is suspended), or as soon as its poll
    /// returns if it is running now. The handle goes too: an aborted task has no output. Does
    /// nothing if the task has finished or its runtime has ended.
    pub fn abort(self) {
        let (id, executor) = self.task;
        let Some(executor) = executor.upgrade() else {
            return;
        };
        let removed = executor.borrow_mut().remove(id);
        trace!("executor: task {} aborted", shown(id));
        // Dropped outside the borrow: the future's destructors may spawn, or use the reactor.
        drop(removed);
    }
}
// ANCHOR_END: abort

// ANCHOR: spawn
/// Starts `future` as a task of the current runtime: it runs on its own, whether or not anyone
/// awaits the handle. Panics outside `block_on`.
pub fn spawn<F: Future + 'static>(future: F) -> JoinHandle<F::Output> {
    let executor = EXECUTOR
        .with(|current| current.borrow().clone())
        .expect("spawn outside a runtime: call it inside step05_futures::block_on");
    let state = Rc::new(RefCell::new(JoinState {
        output: None,
        waker: None,
    }));
    let task = Spawned {
        future,
        state: Rc::clone(&state),
    };
    let weak = Rc::downgrade(&executor);
    let mut executor = executor.borrow_mut();
    let executor = &mut *executor;
    let entry = executor.tasks.vacant_entry();
    let place = u32::try_from(entry.key()).expect("fewer than 2^32 tasks at a time");
    let id = (u64::from(place) << 32) | (executor.spawned & u64::from(u32::MAX));
    let waker = executor.queue.waker(id);
    entry.insert(Task {
        id,
        polls: 0,
        idle_since: Instant::now(),
        future: Some(Box::pin(task)),
        waker: Arc::clone(&waker),
    });
    executor.spawned += 1;
    trace!("executor: task {} spawned", shown(id));
    // A new task is ready to run: queue it, as a wake would.
    Waker::from(waker).wake();
    JoinHandle {
        state,
        task: (id, weak),
    }
}

impl Executor {
    /// Task `id`, if it has not finished.
    fn get_mut(&mut self, id: u64) -> Option<&mut Task> {
        // A task found in its place with another id took the place of task `id`, which has
        // finished.
        self.tasks.get_mut(place(id)).filter(|task| task.id == id)
    }

    /// Removes task `id`, if it has not finished.
    fn remove(&mut self, id: u64) -> Option<Task> {
        self.get_mut(id)?;
        Some(self.tasks.remove(place(id)))
    }
}

/// Where task `id` is kept: the high 32 bits of its id.
fn place(id: u64) -> usize {
    usize::try_from(id >> 32).expect("a place fits in a usize")
}
// ANCHOR_END: spawn

/// The executor's part of one `block_on`: a run queue and the tasks, installed on this thread
/// until it is dropped.
struct Runtime {
    /// The executor, installed for `spawn`.
    executor: Rc<RefCell<Executor>>,
    /// Its queue of woken tasks.
    queue: RunQueue,
    /// Drops the tasks left, then uninstalls the executor.
    _executor_guard: ExecutorGuard,
}

impl Runtime {
    /// Creates the executor and installs it on this thread; its wakers call `interrupt` when
    /// the loop sleeps. Panics inside another `block_on`.
    fn start(interrupt: Arc<dyn Interrupt>) -> Runtime {
        let in_runtime = EXECUTOR.with(|current| current.borrow().is_some());
        assert!(
            !in_runtime,
            "block_on inside block_on: a runtime cannot wait for itself"
        );
        let queue = RunQueue::new(interrupt);
        let executor = Rc::new(RefCell::new(Executor {
            tasks: Slab::new(),
            spawned: 0,
            queue: queue.clone(),
        }));
        EXECUTOR.with(|current| *current.borrow_mut() = Some(Rc::clone(&executor)));
        Runtime {
            executor,
            queue,
            _executor_guard: ExecutorGuard,
        }
    }
}

/// Uninstalls the executor from the thread when `block_on` ends, however it ends.
struct ExecutorGuard;

impl Drop for ExecutorGuard {
    fn drop(&mut self) {
        // Drop the tasks left while the runtime is still installed (a task's destructor may
        // spawn, or use the reactor), until none are left; then uninstall.
        let executor = EXECUTOR.with(|current| current.borrow().clone());
        if let Some(executor) = executor {
            loop {
                let tasks = std::mem::take(&mut executor.borrow_mut().tasks);
                if tasks.is_empty() {
                    break;
                }
                drop(tasks);
            }
        }
        EXECUTOR.with(|current| current.borrow_mut().take());
    }
}

// ANCHOR: block_on
/// Runs `future` to completion on this thread, with a reactor and an executor of its own;
/// tasks it spawns run alongside it. Returns the future's output. Tasks still unfinished when
/// it returns are dropped. Panics inside another `block_on`, or if the kernel refuses the
/// reactor (see the module documentation).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let reactor = Rc::new(RefCell::new(
        Reactor::new().expect("create the reactor (epoll)"),
    ));
    // Installed for the sockets and timers; uninstalled after `block_on_driven` has dropped
    // the tasks left, so their destructors can still use it.
    let _entered = Reactor::enter(Rc::clone(&reactor));
    block_on_driven(&reactor, future)
}

/// `block_on` with any driver: the executor's loop, which sleeps in `driver` when nothing is
/// queued. (Step 8 runs it with an io_uring ring in place of the reactor.)
pub fn block_on_driven<D: Driver, F: Future>(driver: &RefCell<D>, future: F) -> F::Output {
    let runtime = Runtime::start(driver.borrow().interrupter());
    let main = runtime.queue.waker(MAIN);
    let main_handle = Waker::from(Arc::clone(&main));
    main_handle.wake_by_ref(); // ready to run: queue it, as a wake would
    let mut future = std::pin::pin!(future);
    loop {
        // Poll what was woken, in order, but not forever: tasks that keep waking each other
        // would otherwise keep the kernel's news (and timers) waiting.
        for _ in 0..POLLS_BETWEEN_TURNS {
            let Some(id) = runtime.queue.pop() else { break };
            if id != MAIN {
                poll_task(&runtime.executor, id);
                continue;
            }
            main.unqueued();
            trace!(poll None; "executor: poll main future");
            let mut cx = Context::from_waker(&main_handle);
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
        }
        // Ask the kernel: sleep until something is woken, or only look if tasks are queued.
        runtime
            .queue
            .sleep_or_peek(driver)
            .expect("the driver's wait failed");
    }
}
// ANCHOR_END: block_on

// ANCHOR: poll_task
/// Polls spawned task `id` once, if it still exists.
fn poll_task(executor: &Rc<RefCell<Executor>>, id: u64) {
    // Take the future out, so the task can spawn (which borrows the executor) while it runs.
    let (future, waker) = {
        let mut executor = executor.borrow_mut();
        let Some(task) = executor.get_mut(id) else {
            return;
        };
        let Some(future) = task.future.take() else {
            return;
        };
        (future, Arc::clone(&task.waker))
    };
    waker.unqueued();
    let mut future = future;
    trace!(poll Some(shown(id)); "executor: poll task {}", shown(id));
    let waker_handle = Waker::from(waker);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(&waker_handle))
    {
        Poll::Ready(()) => {
            trace!("executor: task {} finished", shown(id));
            let removed = executor.borrow_mut().remove(id);
            // Drop the finished future outside the borrow: dropping may deregister sockets.
            drop(removed);
            drop(future);
        }
        Poll::Pending => {
            if let Some(task) = executor.borrow_mut().get_mut(id) {
                task.future = Some(future);
                task.polls += 1;
                task.idle_since = Instant::now();
            }
        }
    }
}
// ANCHOR_END: poll_task

/// What a task is doing, as a task dump sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Woken, and waiting in the run queue for its turn.
    Queued,
    /// Being polled right now (usually: the task that asked for the dump).
    Running,
    /// Waiting for a wake.
    Waiting,
}

/// One live task, as a task dump sees it.
#[derive(Debug, Clone)]
pub struct TaskInfo {
    /// Its number, as traces show it (the count of tasks spawned before it).
    pub number: u64,
    /// What it is doing.
    pub state: TaskState,
    /// How many times it has been polled.
    pub polls: u64,
    /// How long since its last poll ended (or since it was spawned, if never polled).
    pub idle: Duration,
    /// Its waker: ask the reactor (or anything that keeps wakers) whether it holds it.
    pub waker: Waker,
}

/// Every spawned task still alive in the runtime on this thread, in spawn order (none outside
/// `block_on`; `block_on`'s own future is not a task and is not listed).
pub fn tasks() -> Vec<TaskInfo> {
    let Some(executor) = EXECUTOR.with(|current| current.borrow().clone()) else {
        return Vec::new();
    };
    let executor = executor.borrow();
    let now = Instant::now();
    let mut tasks: Vec<TaskInfo> = executor
        .tasks
        .iter()
        .map(|(_, task)| TaskInfo {
            number: shown(task.id),
            state: if task.future.is_none() {
                TaskState::Running
            } else if task.waker.is_queued() {
                TaskState::Queued
            } else {
                TaskState::Waiting
            },
            polls: task.polls,
            idle: now.saturating_duration_since(task.idle_since),
            waker: Waker::from(Arc::clone(&task.waker)),
        })
        .collect();
    tasks.sort_by_key(|task| task.number);
    tasks
}
