//! A pool of threads for blocking work: asyncio's `run_in_executor`, tokio's `spawn_blocking`.
//!
//! A task that calls something blocking (a slow system call, a long computation) holds the
//! loop's only thread, and every other task waits. `spawn_blocking` runs the blocking function
//! on one of a few helper threads instead, and hands its result back to the task through a
//! waker: the one place in this runtime where a wake comes from another thread, which is why
//! step 5's wakers are thread-safe and can interrupt the reactor's wait.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

/// How many helper threads the pool has.
const THREADS: usize = 4;

// ANCHOR: job
/// A job for a helper thread.
type Job = Box<dyn FnOnce() + Send>;
// ANCHOR_END: job

/// The pool's job queue, started at first use.
fn pool() -> &'static Mutex<Sender<Job>> {
    static POOL: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..THREADS {
            let queue = Arc::clone(&queue);
            // The helpers live as long as the process; a failed spawn leaves fewer of them.
            let _ = std::thread::Builder::new()
                .name(format!("blocking-{i}"))
                .spawn(move || {
                    loop {
                        let job = testbed::lock(&queue).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // the pool is gone
                        }
                    }
                });
        }
        Mutex::new(jobs)
    })
}

/// Where a blocking job leaves its result, and the waker of the task waiting for it.
struct Slot<T> {
    /// The result, once the job has run (`Err`: it panicked).
    result: Option<std::thread::Result<T>>,
    /// The waiting task's waker.
    waker: Option<Waker>,
}

// ANCHOR: spawn_blocking
/// Runs `job` on a helper thread; the returned future is ready with its result (or with its
/// panic, as `std::thread::spawn`'s `join` would give it).
pub fn spawn_blocking<T, F>(job: F) -> BlockingHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // ANCHOR: result_slot
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
    }));
    let done = Arc::clone(&slot);
    let run: Job = Box::new(move || {
        let result = catch_unwind(AssertUnwindSafe(job));
        let waker = {
            let mut slot = testbed::lock(&done);
            slot.result = Some(result);
            slot.waker.take()
        };
        // From this helper thread: the task's waker queues it and interrupts the reactor.
        if let Some(waker) = waker {
            waker.wake();
        }
    });
    // ANCHOR_END: result_slot
    if let Err(failed) = testbed::lock(pool()).send(run) {
        // No helper thread at all: run it here rather than never.
        (failed.0)();
    }
    BlockingHandle { slot }
}

/// The future of a [`spawn_blocking`] job's result.
pub struct BlockingHandle<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Future for BlockingHandle<T> {
    type Output = std::thread::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = testbed::lock(&self.slot);
        match slot.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                // Stored under the same lock the helper takes to store the result: no wake
                // can fall between our look and our waker.
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
// ANCHOR_END: spawn_blocking
