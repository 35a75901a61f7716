//! The run queue: what was woken, in order, and how the loop that works through it sleeps in
//! the reactor without missing a wake.
//!
//! A runtime's loop takes ids from the queue and runs what they name (the executor polls a
//! task; step 7's hub resumes a green thread), and when the queue is empty it asks the reactor
//! to wait for the kernel. The wakers put ids in the queue, from this thread or any other. One
//! race needs care: a wake from another thread that lands just as the loop decides to sleep.
//! [`RunQueue::sleep_or_peek`] closes it with a flag, `sleeping`, set *before* the queue's last
//! look: a wake either comes before that look (and is seen), or after the flag (and interrupts
//! the sleep).
//!
//! Step 5's executor and step 7's hub share this file, so what differs between them (poll a
//! task, resume a stack) is all that differs.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;
use std::task::Waker;
use std::time::Duration;

use testbed::lock;

use crate::trace::trace;

/// The id `block_on` gives the future it was handed (spawned tasks count from 0).
pub const MAIN: u64 = u64::MAX;

/// How traces show `id`: its low 32 bits. Step 5's executor counts its tasks there (and keeps
/// where each one is in the high bits); step 7's green threads use only those.
pub fn shown(id: u64) -> u64 {
    id & u64::from(u32::MAX)
}

// ANCHOR: driver
/// What a runtime's loop sleeps in when nothing is queued: step 5's reactor (epoll, through
/// mio), or step 8's ring (io_uring). It waits for the kernel's news and hands back the wakers
/// to wake; it never runs a task itself.
pub trait Driver {
    /// What it is, for traces: "reactor".
    const NAME: &'static str;
    /// The system call it sleeps in, for traces: "epoll_wait".
    const SLEEPS_IN: &'static str;
    /// Waits for the kernel's news, no longer than `timeout` (`None`: as long as it takes), and
    /// returns the wakers of what is done or ready.
    fn turn(&mut self, timeout: Option<Duration>) -> io::Result<Vec<Waker>>;
    /// What another thread calls to interrupt a `turn` that sleeps.
    fn interrupter(&self) -> Arc<dyn Interrupt>;
}

/// Interrupts a driver's sleep, from any thread.
pub trait Interrupt: Send + Sync {
    /// Makes the sleeping `turn` return (or the next one return at once).
    fn interrupt(&self);
}
// ANCHOR_END: driver

impl Interrupt for mio::Waker {
    fn interrupt(&self) {
        // An error here means the eventfd is gone with its reactor: nobody is left to wake.
        let _ = self.wake();
    }
}

// ANCHOR: task_waker
/// What the wakers share with the loop.
struct Shared {
    /// Ids to run, in the order they were woken.
    queue: Mutex<VecDeque<u64>>,
    /// Set while the loop sleeps in the reactor: a wake must then interrupt the sleep.
    sleeping: AtomicBool,
    /// Interrupts the driver's sleep, from any thread.
    interrupt: Arc<dyn Interrupt>,
}

/// A runtime's queue of woken ids. Clones share it.
#[derive(Clone)]
pub struct RunQueue {
    shared: Arc<Shared>,
}

/// The waker of one task (or, in step 7, of one green thread).
pub struct TaskWaker {
    /// What to run.
    id: u64,
    /// Set while it is in the queue, so that many wakes queue it once.
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
            return; // already queued: it will be run once, and see everything
        }
        lock(&self.shared.queue).push_back(self.id);
        match self.id {
            MAIN => trace!(wake None; "run queue: main future queued"),
            id => trace!(wake Some(shown(id)); "run queue: task {} queued", shown(id)),
        }
        if self.shared.sleeping.load(Ordering::SeqCst) {
            self.shared.interrupt.interrupt();
        }
    }
}

impl TaskWaker {
    /// Marks it as taken out of the queue: from now on, a wake queues it again. The loop calls
    /// this just before it runs the task, so that a wake during the run is not lost.
    pub fn unqueued(&self) {
        self.queued.store(false, Ordering::SeqCst);
    }
}
// ANCHOR_END: task_waker

impl TaskWaker {
    /// Whether it is in the queue now (woken, not yet run): for a task dump.
    pub fn is_queued(&self) -> bool {
        self.queued.load(Ordering::SeqCst)
    }
}

impl RunQueue {
    /// An empty queue, whose wakers call `interrupt` when the loop sleeps (for step 5, the
    /// reactor's `interrupter`).
    pub fn new(interrupt: Arc<dyn Interrupt>) -> RunQueue {
        RunQueue {
            shared: Arc::new(Shared {
                queue: Mutex::new(VecDeque::new()),
                sleeping: AtomicBool::new(false),
                interrupt,
            }),
        }
    }

    /// A waker for `id`, not queued yet.
    pub fn waker(&self, id: u64) -> Arc<TaskWaker> {
        Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(false),
            shared: Arc::clone(&self.shared),
        })
    }

    /// The id woken longest ago, if any.
    pub fn pop(&self) -> Option<u64> {
        lock(&self.shared.queue).pop_front()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        lock(&self.shared.queue).is_empty()
    }

    // ANCHOR: sleep_or_peek
    /// Asks the kernel for news, and wakes what it reports. With nothing queued, sleeps in the
    /// driver (step 5: the reactor) until the kernel, a timer or another thread wakes
    /// something; with ids still queued, only looks, without waiting.
    pub fn sleep_or_peek<D: Driver>(&self, driver: &RefCell<D>) -> io::Result<()> {
        // Say we are asleep first, then look at the queue once more: a wake in between either
        // sees `sleeping` and interrupts the sleep, or is seen here.
        self.shared.sleeping.store(true, Ordering::SeqCst);
        let timeout = if self.is_empty() {
            trace!(
                "run queue empty: turn the {}, which sleeps in {}",
                D::NAME,
                D::SLEEPS_IN
            );
            None
        } else {
            // Only a look: no wake needs to interrupt it.
            self.shared.sleeping.store(false, Ordering::SeqCst);
            Some(Duration::ZERO)
        };
        let woken = driver.borrow_mut().turn(timeout);
        self.shared.sleeping.store(false, Ordering::SeqCst);
        // Wake outside the driver's borrow: a waker may run runtime code.
        for waker in woken? {
            waker.wake();
        }
        Ok(())
    }
    // ANCHOR_END: sleep_or_peek
}
