//! The workers: threads that each run tasks from a queue of their own, take from the global
//! queue, steal from each other, and park when there is nothing anywhere.
//!
//! ```text
//!   spawn / wake from outside ──▶ [ injector (global) ]
//!                                   │ steal a batch     │
//!   worker 0: [ local queue ] ◀─────┘                   └────▶ [ local queue ] :worker 1
//!               │  ▲   wake on worker 0                          ▲
//!               │  └── pushes here                               │
//!               └──── steal half, up to 32 (when worker 1 runs dry) ┘
//! ```
//!
//! A wake on a worker thread (the poller waking the tasks whose sockets are ready, a task
//! waking another) puts the task in *that* worker's queue: no lock, and the task's data is
//! likely still in that core's cache. A wake from any other thread (the blocking pool,
//! `block_on`'s thread) goes to the injector. A worker whose queue is empty takes a batch from
//! the injector, then steals half of another worker's queue; only when all are empty does it
//! park. (Work stealing is what keeps one worker busy with 5,000 tasks while the other idles:
//! the poller that woke them pushed them all to its own queue.)

use std::cell::RefCell;
use std::iter;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use testbed::lock;

use super::budget;
use super::live::LiveTasks;
use super::park::{Parker, Unpark};
use super::reactor::Reactor;
use super::task::{BoxFuture, Task};

/// How often (in tasks run) a worker looks at the injector first, and asks the kernel for
/// news without waiting: so that neither spawned tasks nor I/O wait for a busy worker's queue
/// to empty. (tokio's numbers are 31 and 61.)
const FAIRNESS_INTERVAL: u64 = 61;

/// Counts, for the report.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// Tasks polled, per worker.
    pub(crate) polls: Vec<AtomicU64>,
    /// Successful steals from another worker's queue.
    pub(crate) steals: AtomicU64,
    /// Times a worker parked.
    pub(crate) parks: AtomicU64,
}

/// What every worker, every waker and `block_on` share.
pub(crate) struct Shared {
    /// Tasks from outside the workers.
    pub(crate) injector: Injector<Arc<Task>>,
    /// One per worker: the other end of its local queue.
    pub(crate) stealers: Vec<Stealer<Arc<Task>>>,
    /// The reactor.
    pub(crate) reactor: Reactor,
    /// Where workers park.
    pub(crate) parker: Parker,
    /// Every task not finished yet (so that shutdown can drop their futures).
    pub(crate) live: LiveTasks,
    /// Set at shutdown.
    pub(crate) shutdown: AtomicBool,
    /// Operations per poll, if the budget is on.
    pub(crate) budget: Option<u32>,
    /// Counts.
    pub(crate) counts: Counts,
}

/// What a worker thread keeps for itself.
struct Local {
    /// Its runtime.
    shared: Arc<Shared>,
    /// Its run queue (FIFO).
    queue: Worker<Arc<Task>>,
}

thread_local! {
    /// The runtime this thread belongs to (a worker, or `block_on`'s caller): for `spawn`,
    /// sockets and timers.
    static RUNTIME: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
    /// On a worker thread: its queue.
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Makes `shared` this thread's runtime until the guard is dropped.
pub(crate) struct Enter {
    /// The one before.
    previous: Option<Arc<Shared>>,
}

impl Enter {
    /// Enters `shared`.
    pub(crate) fn new(shared: Arc<Shared>) -> Enter {
        let previous = RUNTIME.with(|current| current.borrow_mut().replace(shared));
        Enter { previous }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = RUNTIME.try_with(|current| *current.borrow_mut() = previous);
    }
}

/// This thread's runtime, if any.
pub(crate) fn current() -> Option<Arc<Shared>> {
    RUNTIME
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

impl Shared {
    /// The shared state of a runtime with `workers` workers; returns their queues too.
    pub(crate) fn new(
        workers: usize,
        budget: Option<u32>,
    ) -> std::io::Result<(Shared, Vec<Worker<Arc<Task>>>)> {
        let queues: Vec<_> = iter::repeat_with(Worker::new_fifo).take(workers).collect();
        let shared = Shared {
            injector: Injector::new(),
            stealers: queues.iter().map(Worker::stealer).collect(),
            reactor: Reactor::new()?,
            parker: Parker::default(),
            live: LiveTasks::default(),
            shutdown: AtomicBool::new(false),
            budget,
            counts: Counts {
                polls: iter::repeat_with(AtomicU64::default)
                    .take(workers)
                    .collect(),
                ..Counts::default()
            },
        };
        Ok((shared, queues))
    }

    /// A new task for `future`, queued; returns it, for its `JoinHandle`.
    pub(crate) fn spawn(self: &Arc<Self>, future: BoxFuture) -> Arc<Task> {
        let task = self.live.insert(|key| Task {
            state: super::state::State::scheduled(),
            future: Mutex::new(Some(future)),
            key,
            shared: Arc::downgrade(self),
            join: Mutex::default(),
        });
        self.schedule(Arc::clone(&task));
        task
    }

    // ANCHOR: schedule
    /// Queues a task that was just scheduled: in this worker's own queue if we are on one of
    /// its workers, else in the injector; then wakes a parked worker, if one is parked, to
    /// take it (or steal it).
    pub(crate) fn schedule(self: &Arc<Self>, task: Arc<Task>) {
        let mut task = Some(task);
        // On one of this runtime's workers: its own queue. (`try_with`: a thread that is
        // exiting has no thread-locals left; its wakes go to the injector like any other.)
        let _ = LOCAL.try_with(|local| {
            if let Some(local) = &*local.borrow()
                && Arc::ptr_eq(&local.shared, self)
                && let Some(task) = task.take()
            {
                local.queue.push(task);
            }
        });
        if let Some(task) = task {
            self.injector.push(task);
        }
        self.unpark_one();
    }
    // ANCHOR_END: schedule

    /// Wakes a parked worker, if one is parked.
    pub(crate) fn unpark_one(&self) {
        if self.parker.unpark_one() == Unpark::WakePoller {
            self.reactor.wake();
        }
    }

    /// Whether any queue has a task (the last look before parking).
    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Whether the runtime is shutting down.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Shuts down: workers stop at their next look, sleepers and the poller are woken.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
        self.reactor.stop();
        self.parker.unpark_all();
    }

    /// After the workers have stopped: drops every task's future (a task waiting on a socket
    /// holds the socket, whose registration holds the task's waker: a cycle only this breaks).
    pub(crate) fn drop_tasks(&self) {
        let tasks = self.live.drain();
        for task in &tasks {
            let future = lock(&task.future).take();
            drop(future); // outside the lock: its drop may wake other tasks
        }
        while !self.injector.steal().is_empty() {}
    }
}

// ANCHOR: worker_loop
/// A worker thread's life: find a task and poll it; when there is none, park.
pub(crate) fn run(shared: Arc<Shared>, index: usize, queue: Worker<Arc<Task>>) {
    let _enter = Enter::new(Arc::clone(&shared));
    // The connections' records note which worker ran them, for the timeline.
    testbed::record::set_worker(Some(index));
    LOCAL.with(|local| {
        *local.borrow_mut() = Some(Local {
            shared: Arc::clone(&shared),
            queue,
        });
    });
    let (mut ticks, mut searching): (u64, bool) = (0, false);
    while !shared.is_shutdown() {
        ticks += 1;
        if ticks.is_multiple_of(FAIRNESS_INTERVAL) {
            look_at_the_kernel(&shared);
        }
        match find_task(&shared, index, ticks) {
            Some(task) => {
                // Found one: if we were the last worker looking, and there is more, wake
                // another to look for it.
                if std::mem::take(&mut searching) && shared.parker.end_search() && shared.has_work()
                {
                    shared.unpark_one();
                }
                run_task(&shared, index, task);
            }
            None => {
                if std::mem::take(&mut searching) {
                    shared.parker.end_search();
                }
                searching = park(&shared);
            }
        }
    }
    // Leave nothing in the thread-local queue: shutdown drops the tasks.
    LOCAL.with(|local| local.borrow_mut().take());
}
// ANCHOR_END: worker_loop

// ANCHOR: find_task
/// The next task for worker `index`: its own queue first (now and then the injector first,
/// so that it is not starved by a worker that keeps busy), then a batch from the injector,
/// then half of another worker's queue (crossbeam takes half, up to 32 tasks per steal).
fn find_task(shared: &Shared, index: usize, ticks: u64) -> Option<Arc<Task>> {
    LOCAL.with(|local| {
        let local = local.borrow();
        let queue = &local.as_ref().expect("a worker thread has its queue").queue;
        if ticks.is_multiple_of(FAIRNESS_INTERVAL)
            && let Some(task) = retry(|| shared.injector.steal())
        {
            return Some(task);
        }
        if let Some(task) = queue.pop() {
            return Some(task);
        }
        if let Some(task) = retry(|| shared.injector.steal_batch_and_pop(queue)) {
            return Some(task);
        }
        // Steal, starting with the next worker, so that victims differ between thieves.
        let workers = shared.stealers.len();
        (1..workers)
            .map(|offset| &shared.stealers[(index + offset) % workers])
            .find_map(|victim| retry(|| victim.steal_batch_and_pop(queue)))
            .inspect(|_| {
                shared.counts.steals.fetch_add(1, Ordering::Relaxed);
            })
    })
}
// ANCHOR_END: find_task

/// Runs `steal` until it does not say `Retry` (it raced with another thief).
fn retry<T>(mut steal: impl FnMut() -> Steal<T>) -> Option<T> {
    loop {
        match steal() {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => {}
        }
    }
}

// ANCHOR: run_task
/// Polls one task, following its state machine.
fn run_task(shared: &Arc<Shared>, index: usize, task: Arc<Task>) {
    if !task.state.start_running() {
        return; // not scheduled: cannot happen, see `State::start_running`
    }
    shared.counts.polls[index].fetch_add(1, Ordering::Relaxed);
    budget::reset(shared.budget);
    let waker = Waker::from(Arc::clone(&task));
    let mut cx = Context::from_waker(&waker);
    let poll = match lock(&task.future).as_mut() {
        Some(future) => future.as_mut().poll(&mut cx),
        None => return, // dropped at shutdown
    };
    budget::reset(None);
    match poll {
        Poll::Ready(output) => {
            task.state.complete();
            let future = lock(&task.future).take();
            drop(future);
            shared.live.remove(task.key);
            task.finish(output); // last: whoever waits finds the task gone from the table
        }
        Poll::Pending => {
            if task.state.finish_pending() {
                // Woken while we polled it: it goes back in the queue (behind the others).
                shared.schedule(task);
            }
        }
    }
}
// ANCHOR_END: run_task

// ANCHOR: park
/// Nothing to do: wait in the reactor if nobody does, else sleep until notified. Returns
/// `true` if a notification woke this worker (it is then searching for the work it was woken
/// for).
fn park(shared: &Arc<Shared>) -> bool {
    shared.counts.parks.fetch_add(1, Ordering::Relaxed);
    let mut idle = shared.parker.begin();
    if shared.has_work() || shared.is_shutdown() {
        drop(idle);
        shared.parker.end(); // work came in meanwhile
        return false;
    }
    if idle.polling {
        // Another worker waits in the reactor: sleep until a wake needs us.
        return shared
            .parker
            .sleep(idle, || shared.is_shutdown() || shared.has_work());
    }
    idle.polling = true;
    drop(idle);
    let woken = {
        let mut driver = shared.reactor.driver();
        shared.reactor.turn(&mut driver, true)
    };
    shared.parker.stop_polling();
    shared.parker.end();
    wake_all(woken);
    false
}
// ANCHOR_END: park

/// Now and then, a busy worker asks the kernel for news without waiting, if no other worker
/// is at it: so that a runtime whose workers never run dry still hears about I/O and timers.
fn look_at_the_kernel(shared: &Shared) {
    let woken = match shared.reactor.try_driver() {
        Some(mut driver) => shared.reactor.turn(&mut driver, false),
        None => return,
    };
    wake_all(woken);
}

/// Wakes what the reactor returned (on a worker: into its own queue, for the others to steal).
fn wake_all(woken: std::io::Result<Vec<Waker>>) {
    match woken {
        Ok(wakers) => wakers.into_iter().for_each(Waker::wake),
        // epoll_wait itself failed: nothing a worker can do but say so and try again.
        Err(e) => eprintln!("step09: epoll_wait failed: {e}"),
    }
}
