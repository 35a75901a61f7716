//! The executor: the part of the runtime that polls futures.
//!
//! It keeps the spawned tasks, and a queue of the ones that asked to be polled (were woken).
//! `block_on` runs the loop: poll whatever is queued; when nothing is, let the reactor wait for
//! the kernel (which wakes more tasks); repeat until the main future is done.
//!
//! A [`Waker`] here is a small value (`TaskWaker`) holding a task's id and the queue. Waking it
//! puts the id in the queue, once, and, if the loop is asleep in the reactor, interrupts the
//! reactor, since a waker may be used from another thread. Because it only holds thread-safe
//! things, it can be built with `std::task::Wake`, in safe code, even though the tasks
//! themselves (which may hold `Rc`s) stay on their thread. (`raw_waker.rs` shows the same
//! thing built by hand.)

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use crate::reactor::Reactor;
use crate::trace::trace;

/// The id of the future given to `block_on` (spawned tasks count from 0).
const MAIN: u64 = u64::MAX;

/// How many polls the executor makes before it asks the kernel for news again, even if tasks
/// are still queued: a bound on how long I/O and timers can be kept waiting.
const POLLS_BETWEEN_TURNS: usize = 128;

/// What the wakers of one runtime share with it: the queue of woken tasks, and a way to wake
/// the reactor.
struct Shared {
    /// Ids of the tasks to poll, in the order they were woken.
    queue: Mutex<VecDeque<u64>>,
    /// Set while the loop waits in the reactor: a wake must then interrupt the wait.
    sleeping: AtomicBool,
    /// Interrupts the reactor's wait, from any thread.
    interrupt: Arc<mio::Waker>,
}

// ANCHOR: task_waker
/// The waker of one task.
struct TaskWaker {
    /// The task to poll.
    id: u64,
    /// Set while the task is in the queue, so that many wakes queue it once.
    queued: AtomicBool,
    /// The runtime's queue.
    shared: Arc<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::SeqCst) {
            return; // already queued: it will be polled once, and see everything
        }
        self.shared
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(self.id);
        if self.shared.sleeping.load(Ordering::SeqCst) {
            let _ = self.shared.interrupt.wake();
        }
    }
}
// ANCHOR_END: task_waker

/// A spawned task: its future (absent while it is being polled) and its waker.
struct Task {
    /// The future, type-erased. `Pin<Box<_>>` because a future may not move once polled.
    future: Option<Pin<Box<dyn Future<Output = ()>>>>,
    /// The task's waker, made once.
    waker: Arc<TaskWaker>,
}

/// The executor's state.
struct Executor {
    /// The tasks not finished yet, by id.
    tasks: HashMap<u64, Task>,
    /// The next task id (ids are never reused, so a late wake never reaches a new task).
    next_id: u64,
    /// Shared with the wakers.
    shared: Arc<Shared>,
}

thread_local! {
    /// The executor of the runtime running on this thread, for `spawn`.
    static EXECUTOR: RefCell<Option<Rc<RefCell<Executor>>>> = const { RefCell::new(None) };
}

impl Executor {
    /// A new task's waker.
    fn waker(&self, id: u64) -> Arc<TaskWaker> {
        Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(false),
            shared: Arc::clone(&self.shared),
        })
    }
}

/// The output of a task, shared between the task and its `JoinHandle`.
struct JoinState<T> {
    /// The output, once the task has finished (until the handle takes it).
    output: Option<T>,
    /// The handle's waker, if it is waiting.
    waker: Option<Waker>,
}

/// A spawned future, with where to put its output.
struct Spawned<F: Future> {
    /// The task's own future.
    future: Pin<Box<F>>,
    /// Where its output goes.
    state: Rc<RefCell<JoinState<F::Output>>>,
}

impl<F: Future> Future for Spawned<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let output = match self.future.as_mut().poll(cx) {
            Poll::Ready(output) => output,
            Poll::Pending => return Poll::Pending,
        };
        let waker = {
            let mut state = self.state.borrow_mut();
            state.output = Some(output);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Poll::Ready(())
    }
}

// ANCHOR: join_handle
/// A spawned task's output, to come: itself a future. Dropping it does not stop the task.
pub struct JoinHandle<T> {
    state: Rc<RefCell<JoinState<T>>>,
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
        future: Box::pin(future),
        state: Rc::clone(&state),
    };
    let mut executor = executor.borrow_mut();
    let id = executor.next_id;
    executor.next_id += 1;
    let waker = executor.waker(id);
    executor.tasks.insert(
        id,
        Task {
            future: Some(Box::pin(task)),
            waker: Arc::clone(&waker),
        },
    );
    trace!("executor: task {id} spawned");
    // A new task is ready to run: queue it, as a wake would.
    waker.wake_by_ref();
    JoinHandle { state }
}
// ANCHOR_END: spawn

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
/// it returns are dropped.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let in_runtime = EXECUTOR.with(|current| current.borrow().is_some());
    assert!(
        !in_runtime,
        "block_on inside block_on: a runtime cannot wait for itself"
    );
    let reactor = Rc::new(RefCell::new(
        Reactor::new().expect("create the reactor (epoll)"),
    ));
    let shared = Arc::new(Shared {
        queue: Mutex::new(VecDeque::from([MAIN])),
        sleeping: AtomicBool::new(false),
        interrupt: reactor.borrow().cross_thread_waker(),
    });
    let executor = Rc::new(RefCell::new(Executor {
        tasks: HashMap::new(),
        next_id: 0,
        shared: Arc::clone(&shared),
    }));
    EXECUTOR.with(|current| *current.borrow_mut() = Some(Rc::clone(&executor)));
    // Dropped in reverse order: the tasks go first, while the reactor is still installed.
    let _reactor_guard = Reactor::enter(Rc::clone(&reactor));
    let _executor_guard = ExecutorGuard;

    let main_waker = executor.borrow().waker(MAIN);
    main_waker.queued.store(true, Ordering::SeqCst);
    let main_waker_handle = Waker::from(Arc::clone(&main_waker));
    let mut future = std::pin::pin!(future);
    loop {
        // Poll what was woken, in order, but not forever: tasks that keep waking each other
        // would otherwise keep the kernel's news (and timers) waiting.
        let mut polls = 0;
        while polls < POLLS_BETWEEN_TURNS {
            polls += 1;
            let next = shared
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front();
            let Some(id) = next else { break };
            if id == MAIN {
                main_waker.queued.store(false, Ordering::SeqCst);
                trace!("executor: poll main future");
                if let Poll::Ready(output) = future
                    .as_mut()
                    .poll(&mut Context::from_waker(&main_waker_handle))
                {
                    return output;
                }
            } else {
                poll_task(&executor, id);
            }
        }
        // Ask the kernel. With nothing to poll, sleep in the reactor until the kernel, a timer,
        // or another thread wakes something (say we are asleep first, then look at the queue
        // once more: a wake in between either sees `sleeping` and interrupts the wait, or is
        // seen here). With tasks still queued, only look, without waiting.
        shared.sleeping.store(true, Ordering::SeqCst);
        let nothing_queued = shared
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty();
        if !nothing_queued {
            shared.sleeping.store(false, Ordering::SeqCst);
        }
        let timeout = if nothing_queued {
            None
        } else {
            Some(std::time::Duration::ZERO)
        };
        let woken = reactor
            .borrow_mut()
            .turn(timeout)
            .expect("the reactor's wait failed");
        shared.sleeping.store(false, Ordering::SeqCst);
        // Wake outside the reactor's borrow: a waker may run runtime code.
        for waker in woken {
            waker.wake();
        }
    }
}
// ANCHOR_END: block_on

/// Polls spawned task `id` once, if it still exists.
fn poll_task(executor: &Rc<RefCell<Executor>>, id: u64) {
    // Take the future out, so the task can spawn (which borrows the executor) while it runs.
    let (future, waker) = {
        let mut executor = executor.borrow_mut();
        let Some(task) = executor.tasks.get_mut(&id) else {
            return;
        };
        let Some(future) = task.future.take() else {
            return;
        };
        (future, Arc::clone(&task.waker))
    };
    waker.queued.store(false, Ordering::SeqCst);
    let mut future = future;
    trace!("executor: poll task {id}");
    let waker_handle = Waker::from(waker);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(&waker_handle))
    {
        Poll::Ready(()) => {
            trace!("executor: task {id} finished");
            let removed = executor.borrow_mut().tasks.remove(&id);
            // Drop the finished future outside the borrow: dropping may deregister sockets.
            drop(removed);
            drop(future);
        }
        Poll::Pending => {
            if let Some(task) = executor.borrow_mut().tasks.get_mut(&id) {
                task.future = Some(future);
            }
        }
    }
}

/// How many spawned tasks are not finished.
pub fn live_tasks() -> usize {
    EXECUTOR.with(|current| {
        current
            .borrow()
            .as_ref()
            .map_or(0, |e| e.borrow().tasks.len())
    })
}
