//! The reactor, shared by every worker: one mio `Poll`, and the readiness and timers that step
//! 5's reactor kept, now behind locks.
//!
//! Who waits in `epoll_wait`? Not a thread of its own (every wake would then cost a hop from
//! that thread to a worker), and not every worker (an event would wake them all). The first
//! worker that runs out of tasks takes the *driver* (the `Poll` and its event buffer, behind a
//! mutex) and waits in `epoll_wait`; the others that run out after it sleep on a condition
//! variable ([`park`](super::park)). A wake for a sleeping runtime goes to a sleeper through the
//! condition variable, or, if nobody sleeps there, to the poller through a `mio::Waker` (an
//! eventfd the `Poll` watches). tokio does the same: one worker at a time holds its I/O driver
//! while the others park on a condvar.
//!
//! The readiness protocol is step 5's (a direction is ready until an operation says
//! `WouldBlock`, and a tick tells a clear from a report that came in meanwhile). What changes
//! is that each socket's readiness has a lock of its own, held by the socket's future and by
//! the poller for a moment each, so the registrations' table is only locked to add and remove.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Token};
use slab::Slab;
use step05_futures::timers::{TimerKey, Timers};
use testbed::lock;

/// The token of the cross-thread waker.
const WAKE_TOKEN: Token = Token(usize::MAX);

/// A direction of readiness: step 5's.
pub use step05_futures::reactor::Direction;

/// What the reactor knows about one direction of one socket (as in step 5).
#[derive(Debug, Default)]
struct Readiness {
    /// The kernel reported it ready and nobody has found it not ready since.
    ready: bool,
    /// Counts the kernel's reports.
    tick: u64,
    /// The future waiting for this direction, if any.
    waker: Option<Waker>,
}

/// One registered socket's readiness, shared by the socket and the reactor.
#[derive(Debug, Default)]
pub struct IoState {
    /// Read and write.
    directions: Mutex<[Readiness; 2]>,
}

// ANCHOR: poll_ready
impl IoState {
    /// Is `direction` ready? If so, the tick (for `clear_ready`); if not, keeps `cx`'s waker.
    pub fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<u64> {
        let mut directions = lock(&self.directions);
        let readiness = &mut directions[direction as usize];
        if readiness.ready {
            return Poll::Ready(readiness.tick);
        }
        match &readiness.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => readiness.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The operation said `WouldBlock` after `poll_ready` gave `tick`: clear the readiness,
    /// unless a report came in meanwhile (step 5's lost-wakeup guard, now against a report
    /// from another thread).
    pub fn clear_ready(&self, direction: Direction, tick: u64) {
        let mut directions = lock(&self.directions);
        let readiness = &mut directions[direction as usize];
        if readiness.tick == tick {
            readiness.ready = false;
        }
    }
    // ANCHOR_END: poll_ready

    /// Forgets the waker of `direction`: its future was dropped.
    pub fn drop_waker(&self, direction: Direction) {
        // Taken out under the lock, dropped after it: a waker's drop is the task's code.
        let waker = lock(&self.directions)[direction as usize].waker.take();
        drop(waker);
    }

    /// A report from the kernel: marks the directions ready and takes their wakers.
    fn mark(&self, readable: bool, writable: bool, to_wake: &mut Vec<Waker>) {
        let mut directions = lock(&self.directions);
        for (index, happened) in [readable, writable].into_iter().enumerate() {
            if happened {
                let readiness = &mut directions[index];
                readiness.ready = true;
                readiness.tick += 1;
                to_wake.extend(readiness.waker.take());
            }
        }
    }
}

/// The part only the poller touches: mio's `Poll` and its event buffer.
pub struct Driver {
    /// mio's poll instance.
    poll: mio::Poll,
    /// Where `poll` writes events.
    events: Events,
}

/// The timers, and when the poller will wake up on its own.
struct TimerState {
    /// Step 5's heap of deadlines.
    timers: Timers,
    /// The next generation for a timer key.
    generation: u32,
    /// While a worker waits in `epoll_wait`: until when (`Some(None)`: no deadline). A timer
    /// added for earlier must wake it, or it would fire late.
    poller_until: Option<Option<Instant>>,
}

/// The reactor of one runtime.
pub struct Reactor {
    /// Registers sockets (a clone of the driver's registry: no lock needed).
    registry: mio::Registry,
    /// The poll instance, held by the worker waiting in it.
    driver: Mutex<Driver>,
    /// Interrupts `epoll_wait` from another thread.
    waker: mio::Waker,
    /// A wake is on its way to the poller already: do not write the eventfd again.
    wake_pending: AtomicBool,
    /// Registered sockets by token.
    sources: Mutex<Slab<Arc<IoState>>>,
    /// Pending timers.
    timers: Mutex<TimerState>,
    /// Cleared when the runtime shuts down: a socket then gets an error, not a wait forever.
    running: AtomicBool,
    /// How many times a worker asked the kernel (for the report).
    turns: AtomicU64,
}

impl Reactor {
    /// A new reactor: an epoll instance and an eventfd.
    pub fn new() -> io::Result<Reactor> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        Ok(Reactor {
            registry,
            driver: Mutex::new(Driver {
                poll,
                events: Events::with_capacity(1024),
            }),
            waker,
            wake_pending: AtomicBool::new(false),
            sources: Mutex::new(Slab::new()),
            timers: Mutex::new(TimerState {
                timers: Timers::default(),
                generation: 0,
                poller_until: None,
            }),
            running: AtomicBool::new(true),
            turns: AtomicU64::new(0),
        })
    }

    /// Registers `source` (edge-triggered, read and write); returns its token and readiness.
    pub fn register(&self, source: &mut impl Source) -> io::Result<(Token, Arc<IoState>)> {
        if !self.is_running() {
            return Err(stopped());
        }
        let state = Arc::new(IoState::default());
        let mut sources = lock(&self.sources);
        let token = Token(sources.vacant_key());
        self.registry
            .register(source, token, Interest::READABLE | Interest::WRITABLE)?;
        sources.insert(Arc::clone(&state));
        Ok((token, state))
    }

    /// Deregisters `source`. (A report already read for this token may still reach the next
    /// socket given the same slot: a spurious readiness, which costs that socket one
    /// `WouldBlock` and nothing else.)
    pub fn deregister(&self, source: &mut impl Source, token: Token) {
        let _ = self.registry.deregister(source);
        let state = lock(&self.sources).try_remove(token.0);
        drop(state); // after the lock: it may hold a waker
    }

    /// How many sockets are registered (for tests).
    pub fn live_registrations(&self) -> usize {
        lock(&self.sources).len()
    }

    /// Whether the runtime is still running.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// Marks the runtime stopped and wakes the poller.
    pub(crate) fn stop(&self) {
        self.running.store(false, Ordering::Release);
        self.wake();
    }

    /// Interrupts `epoll_wait` (once, however many ask before it returns).
    pub(crate) fn wake(&self) {
        if !self.wake_pending.swap(true, Ordering::AcqRel) {
            let _ = self.waker.wake();
        }
    }

    /// Adds a timer for `deadline`; if the poller sleeps past it, wakes the poller so that it
    /// waits again with the new, shorter timeout.
    pub fn add_timer(&self, deadline: Instant) -> TimerKey {
        let mut state = lock(&self.timers);
        let generation = state.generation;
        state.generation = state.generation.wrapping_add(1);
        let key = state.timers.add(deadline, generation);
        if let Some(until) = state.poller_until
            && until.is_none_or(|until| deadline < until)
        {
            state.poller_until = None;
            drop(state);
            self.wake();
        }
        key
    }

    /// Has the timer fired? If not, keeps `cx`'s waker.
    pub fn poll_timer(&self, timer: TimerKey, cx: &mut Context<'_>) -> Poll<()> {
        lock(&self.timers).timers.poll(timer, cx)
    }

    /// Removes a timer.
    pub fn remove_timer(&self, timer: TimerKey) {
        lock(&self.timers).timers.remove(timer);
    }

    /// How many timers are pending (for tests).
    pub fn live_timers(&self) -> usize {
        lock(&self.timers).timers.len()
    }

    /// How many times a worker asked the kernel for news.
    pub fn turns(&self) -> u64 {
        self.turns.load(Ordering::Relaxed)
    }

    /// The driver, for the worker about to wait in it.
    pub(crate) fn driver(&self) -> MutexGuard<'_, Driver> {
        lock(&self.driver)
    }

    /// The driver, if no other worker holds it (for a look without waiting).
    pub(crate) fn try_driver(&self) -> Option<MutexGuard<'_, Driver>> {
        self.driver.try_lock().ok()
    }

    // ANCHOR: turn
    /// Asks the kernel for news: waits (if `wait`) until an event, a wake or the nearest
    /// timer, else only looks. Returns the wakers to wake; the caller wakes them after
    /// releasing the driver, since waking queues tasks and may wake other workers.
    pub(crate) fn turn(&self, driver: &mut Driver, wait: bool) -> io::Result<Vec<Waker>> {
        let timeout = if wait {
            let mut state = lock(&self.timers);
            let timeout = state.timers.next_timeout();
            state.poller_until = Some(timeout.map(|t| Instant::now() + t));
            timeout
        } else {
            Some(Duration::ZERO)
        };
        self.turns.fetch_add(1, Ordering::Relaxed);
        let Driver { poll, events } = driver;
        let polled = match poll.poll(events, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            other => other,
        };
        // From here on a new wake must write the eventfd again.
        self.wake_pending.store(false, Ordering::Release);
        let mut to_wake = Vec::new();
        {
            let mut state = lock(&self.timers);
            state.poller_until = None;
            state.timers.fire_due(Instant::now(), &mut to_wake);
        }
        polled?;
        let ready: Vec<(Arc<IoState>, bool, bool)> = {
            let sources = lock(&self.sources);
            events
                .iter()
                .filter(|e| e.token() != WAKE_TOKEN) // a wake: its task is queued already
                .filter_map(|e| {
                    let failed = e.is_error();
                    let state = sources.get(e.token().0)?; // deregistered meanwhile
                    Some((
                        Arc::clone(state),
                        e.is_readable() || e.is_read_closed() || failed,
                        e.is_writable() || e.is_write_closed() || failed,
                    ))
                })
                .collect()
        };
        for (state, readable, writable) in ready {
            state.mark(readable, writable, &mut to_wake);
        }
        Ok(to_wake)
    }
    // ANCHOR_END: turn
}

/// The error of a socket whose runtime has shut down.
pub(crate) fn stopped() -> io::Error {
    io::Error::other(
        "the socket's runtime has shut down: nobody polls its reactor any more \
         (use sockets inside the runtime that created them)",
    )
}
