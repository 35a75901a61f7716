//! The runtime: `W` worker threads, each with its own run queue, one shared reactor.
//!
//! | module | what it holds |
//! |---|---|
//! | [`state`] | a task's state in one atomic: idle, scheduled, running, notified, complete |
//! | `task` | the task (its own waker), `JoinHandle` |
//! | `live` | every task not finished yet, for shutdown, in shards |
//! | `worker` | the queues, the steal, the worker loop |
//! | `park` | sleeping without spinning, and without losing a wake |
//! | [`reactor`] | one mio `Poll` for all workers; whoever is idle waits in it |
//! | [`budget`] | at most 128 I/O operations per poll of a task |
//! | [`net`], [`time`] | sockets, `sleep`, `timeout` |
//! | [`signal`] | SIGINT and SIGTERM as a future, through a socket the reactor watches |

pub mod budget;
mod live;
pub mod net;
mod park;
pub mod reactor;
pub mod signal;
pub mod state;
mod task;
pub mod time;
mod worker;

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

pub use task::JoinHandle;
use worker::{Enter, Shared};

/// A multi-threaded runtime. Dropping it shuts it down: the workers stop, and every task
/// not finished is dropped (its sockets closed, its timers removed).
pub struct Runtime {
    /// What the workers share.
    shared: Arc<Shared>,
    /// The worker threads.
    workers: Vec<thread::JoinHandle<()>>,
}

/// What a runtime did, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Tasks polled by each worker.
    pub polls: Vec<u64>,
    /// Successful steals (each takes about half of a victim's queue).
    pub steals: u64,
    /// Times a worker ran out of work and parked.
    pub parks: u64,
    /// Times a worker asked the kernel for news (`epoll_wait`).
    pub turns: u64,
}

impl Runtime {
    /// A runtime with `workers` worker threads (at least one) and the cooperative budget.
    pub fn new(workers: usize) -> io::Result<Runtime> {
        Runtime::with_budget(workers, Some(budget::BUDGET))
    }

    /// A runtime with `workers` worker threads and `budget` operations per poll (`None`: no
    /// budget, as in steps 5 and 6, to show what it is for).
    pub fn with_budget(workers: usize, budget: Option<u32>) -> io::Result<Runtime> {
        let workers = workers.max(1);
        let (shared, queues) = Shared::new(workers, budget)?;
        let shared = Arc::new(shared);
        let mut runtime = Runtime {
            shared: Arc::clone(&shared),
            workers: Vec::with_capacity(workers),
        };
        for (index, queue) in queues.into_iter().enumerate() {
            let shared = Arc::clone(&shared);
            let thread = thread::Builder::new()
                .name(format!("worker-{index}"))
                .spawn(move || worker::run(shared, index, queue))?;
            runtime.workers.push(thread);
        }
        Ok(runtime)
    }

    /// How many workers it has.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Spawns `future` as a task on the workers.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        JoinHandle::new(self.shared.spawn(task::erase(future)))
    }

    // ANCHOR: block_on
    /// Runs `future` on the calling thread until it is done, while the workers run the tasks
    /// it spawns. The calling thread polls only this future, and sleeps (`thread::park`)
    /// between polls. Panics if called from inside a runtime (a worker that blocked here
    /// would stop running its queue).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        assert!(
            worker::current().is_none(),
            "block_on inside a runtime: a thread of the runtime would block"
        );
        let _enter = Enter::new(Arc::clone(&self.shared));
        let unparker = Arc::new(Unparker {
            thread: thread::current(),
            woken: AtomicBool::new(false),
        });
        let waker = Waker::from(Arc::clone(&unparker));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            // Sleep until woken; `park` may also return for no reason, hence the flag.
            while !unparker.woken.swap(false, Ordering::AcqRel) {
                thread::park();
            }
        }
    }
    // ANCHOR_END: block_on

    /// What the runtime did so far.
    pub fn stats(&self) -> Stats {
        let counts = &self.shared.counts;
        Stats {
            polls: counts
                .polls
                .iter()
                .map(|n| n.load(Ordering::Relaxed))
                .collect(),
            steals: counts.steals.load(Ordering::Relaxed),
            parks: counts.parks.load(Ordering::Relaxed),
            turns: self.shared.reactor.turns(),
        }
    }

    /// How many tasks are not finished yet.
    pub fn live_tasks(&self) -> usize {
        self.shared.live.len()
    }

    /// How many workers are parked now (asleep or waiting in the reactor).
    pub fn parked_workers(&self) -> usize {
        self.shared.parker.parked()
    }

    /// How many sockets and timers the reactor holds (for tests: back to zero after a run).
    pub fn reactor_counts(&self) -> (usize, usize) {
        (
            self.shared.reactor.live_registrations(),
            self.shared.reactor.live_timers(),
        )
    }

    /// A weak reference to what the workers share, to check that shutdown frees it.
    #[doc(hidden)]
    pub fn shared_weak(&self) -> std::sync::Weak<impl Sized + use<>> {
        Arc::downgrade(&self.shared)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shared.begin_shutdown();
        for worker in self.workers.drain(..) {
            // A worker that panicked has said so on stderr already.
            let _ = worker.join();
        }
        self.shared.drop_tasks();
    }
}

/// `block_on`'s waker: unparks the calling thread.
struct Unparker {
    /// The thread in `block_on`.
    thread: Thread,
    /// Set by a wake, cleared by `block_on` before it polls again.
    woken: AtomicBool,
}

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Only the first wake since the last poll unparks: the others would find the flag set
        // and cost a futex call each for nothing (a fan-out's thousand tasks finishing).
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.thread.unpark();
        }
    }
}

// ANCHOR: spawn
/// Spawns `future` on the current runtime (from a task, or inside `block_on`). Panics
/// outside a runtime.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let shared =
        worker::current().expect("spawn outside a runtime: call it inside Runtime::block_on");
    JoinHandle::new(shared.spawn(task::erase(future)))
}
// ANCHOR_END: spawn
