//! Green threads waiting for each other: an [`Event`] (gevent's `gevent.event.Event`) and a
//! [`Pool`] (gevent's `gevent.pool.Pool`).
//!
//! Both are plain `Rc<RefCell<_>>` state: green threads of one hub share one OS thread, and a
//! switch only happens inside a blocking-looking call, so between two such calls a green
//! thread has the state to itself. (That is also the talk's warning, seen from the other
//! side: *any* call that may block is a place where every other green thread may run and
//! change what you just looked at.)

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::hub::{JoinHandle, Timer, park_until, try_spawn};

/// Adds `cx`'s waker to `waiters`, unless it is there already (a green thread woken for
/// nothing comes back with the same waker).
fn add_waiter(waiters: &mut Vec<Waker>, cx: &Context<'_>) {
    if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
        waiters.push(cx.waker().clone());
    }
}

/// The state of an [`Event`].
#[derive(Default)]
struct EventState {
    /// Whether it is set.
    set: bool,
    /// Green threads waiting for it to be set.
    waiters: Vec<Waker>,
}

// ANCHOR: event
/// A flag green threads can wait for. Clones share the flag.
#[derive(Clone, Default)]
pub struct Event {
    state: Rc<RefCell<EventState>>,
}

impl Event {
    /// A new event, not set.
    pub fn new() -> Event {
        Event::default()
    }

    /// Sets it, and wakes every green thread waiting for it.
    pub fn set(&self) {
        let waiters = {
            let mut state = self.state.borrow_mut();
            state.set = true;
            std::mem::take(&mut state.waiters)
        };
        // Outside the borrow: a wake may lead to code that looks at this event.
        for waiter in waiters {
            waiter.wake();
        }
    }

    /// Unsets it.
    pub fn clear(&self) {
        self.state.borrow_mut().set = false;
    }

    /// Whether it is set.
    pub fn is_set(&self) -> bool {
        self.state.borrow().set
    }

    /// Blocks this green thread until the event is set.
    pub fn wait(&self) {
        park_until(|cx| self.poll_set(cx));
    }

    /// Blocks this green thread until the event is set or `timeout` has passed; says whether
    /// it was set.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let Some(timer) = Instant::now().checked_add(timeout).map(Timer::at) else {
            self.wait();
            return true;
        };
        let was_set = park_until(|cx| match self.poll_set(cx) {
            Poll::Ready(()) => Poll::Ready(true),
            Poll::Pending => timer.poll_fired(cx).map(|()| false),
        });
        if !was_set {
            // Timed out: take our waker back, or `set` would wake a green thread that has
            // stopped waiting (and the list would grow with every timeout).
            if let Some(ours) = crate::switch::current_waker() {
                self.state
                    .borrow_mut()
                    .waiters
                    .retain(|waiter| !waiter.will_wake(&ours));
            }
        }
        was_set
    }

    /// How many green threads wait for it (for tests).
    pub fn waiting(&self) -> usize {
        self.state.borrow().waiters.len()
    }

    /// Set? If not, leaves the waker.
    fn poll_set(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.borrow_mut();
        if state.set {
            return Poll::Ready(());
        }
        add_waiter(&mut state.waiters, cx);
        Poll::Pending
    }
}
// ANCHOR_END: event

/// The state of a [`Pool`].
struct PoolState {
    /// At most this many green threads of the pool run at once.
    size: usize,
    /// How many run now.
    running: usize,
    /// Green threads waiting in `spawn` for a free place, woken in the order they came (a
    /// green thread arriving before the woken one has run may take the place first; the woken
    /// one then queues again).
    spawners: VecDeque<Waker>,
    /// Green threads waiting in `join` for the pool to be empty.
    joiners: Vec<Waker>,
}

// ANCHOR: pool
/// A group of green threads of which at most `size` run at once; `spawn` blocks while the pool
/// is full. Clones share the pool.
#[derive(Clone)]
pub struct Pool {
    state: Rc<RefCell<PoolState>>,
}

/// Gives a pool's place back when its green thread ends (returning or panicking).
struct Place(Pool);

impl Drop for Place {
    fn drop(&mut self) {
        let woken = {
            let mut state = self.0.state.borrow_mut();
            state.running -= 1;
            let mut woken: Vec<Waker> = state.spawners.pop_front().into_iter().collect();
            if state.running == 0 {
                woken.append(&mut state.joiners);
            }
            woken
        };
        for waker in woken {
            waker.wake();
        }
    }
}

impl Pool {
    /// A pool of at most `size` green threads at once. Panics if `size` is 0.
    pub fn new(size: usize) -> Pool {
        assert!(size > 0, "a pool of 0 green threads could never run one");
        Pool {
            state: Rc::new(RefCell::new(PoolState {
                size,
                running: 0,
                spawners: VecDeque::new(),
                joiners: Vec::new(),
            })),
        }
    }

    /// Blocks this green thread until the pool has a free place, then starts `f` in it.
    pub fn try_spawn<F, T>(&self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        park_until(|cx| {
            let mut state = self.state.borrow_mut();
            if state.running < state.size {
                state.running += 1;
                return Poll::Ready(());
            }
            if !state.spawners.iter().any(|w| w.will_wake(cx.waker())) {
                state.spawners.push_back(cx.waker().clone());
            }
            Poll::Pending
        });
        let place = Place(self.clone());
        try_spawn(move || {
            let _place = place;
            f()
        })
    }

    /// [`Pool::try_spawn`], panicking if the green thread cannot be created.
    pub fn spawn<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        self.try_spawn(f)
            .unwrap_or_else(|e| panic!("cannot create a green thread's stack: {e}"))
    }

    /// Blocks this green thread until every green thread of the pool has finished.
    pub fn join(&self) {
        park_until(|cx| {
            let mut state = self.state.borrow_mut();
            if state.running == 0 {
                return Poll::Ready(());
            }
            add_waiter(&mut state.joiners, cx);
            Poll::Pending
        });
    }

    /// How many more green threads could start now without waiting.
    pub fn free_count(&self) -> usize {
        let state = self.state.borrow();
        state.size - state.running
    }
}
// ANCHOR_END: pool
