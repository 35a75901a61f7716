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
use std::time::Duration;

use testbed::lock;

use crate::reactor::Reactor;
use crate::trace::trace;

/// The id `block_on` gives the future it was handed (spawned tasks count from 0).
pub const MAIN: u64 = u64::MAX;

/// What the wakers share with the loop.
struct Shared {
    /// Ids to run, in the order they were woken.
    queue: Mutex<VecDeque<u64>>,
    /// Set while the loop sleeps in the reactor: a wake must then interrupt the sleep.
    sleeping: AtomicBool,
    /// Interrupts the reactor's sleep, from any thread.
    interrupt: Arc<mio::Waker>,
}

/// A runtime's queue of woken ids. Clones share it.
#[derive(Clone)]
pub struct RunQueue {
    shared: Arc<Shared>,
}

// ANCHOR: task_waker
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
            MAIN => trace!("run queue: main future queued"),
            id => trace!("run queue: task {id} queued"),
        }
        if self.shared.sleeping.load(Ordering::SeqCst) {
            let _ = self.shared.interrupt.wake();
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

impl RunQueue {
    /// An empty queue, whose wakers interrupt `reactor`'s sleep.
    pub fn new(reactor: &Reactor) -> RunQueue {
        RunQueue {
            shared: Arc::new(Shared {
                queue: Mutex::new(VecDeque::new()),
                sleeping: AtomicBool::new(false),
                interrupt: reactor.cross_thread_waker(),
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
    /// reactor until the kernel, a timer or another thread wakes something; with ids still
    /// queued, only looks, without waiting.
    pub fn sleep_or_peek(&self, reactor: &RefCell<Reactor>) -> io::Result<()> {
        // Say we are asleep first, then look at the queue once more: a wake in between either
        // sees `sleeping` and interrupts the sleep, or is seen here.
        self.shared.sleeping.store(true, Ordering::SeqCst);
        let timeout = if self.is_empty() {
            trace!("run queue empty: turn the reactor, which sleeps in epoll_wait");
            None
        } else {
            // Only a look: no wake needs to interrupt it.
            self.shared.sleeping.store(false, Ordering::SeqCst);
            Some(Duration::ZERO)
        };
        let woken = reactor.borrow_mut().turn(timeout);
        self.shared.sleeping.store(false, Ordering::SeqCst);
        // Wake outside the reactor's borrow: a waker may run runtime code.
        for waker in woken? {
            waker.wake();
        }
        Ok(())
    }
    // ANCHOR_END: sleep_or_peek
}
