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

use crate::hub::{self, CannotPark, JoinHandle, Timer, park_until, try_spawn};

// ANCHOR: wait_lists
/// Adds `cx`'s waker to the back of `queue`, unless it is there already (a green thread woken
/// for nothing comes back with the same waker).
fn add_to_queue(queue: &mut VecDeque<Waker>, cx: &Context<'_>) {
    if !queue.iter().any(|w| w.will_wake(cx.waker())) {
        queue.push_back(cx.waker().clone());
    }
}
// ANCHOR_END: wait_lists

/// The state of an [`Event`].
#[derive(Default)]
struct EventState {
    /// Whether it is set.
    set: bool,
    /// Green threads waiting for it to be set.
    waiters: VecDeque<Waker>,
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

    /// Blocks this green thread until the event is set; says whether it is (as gevent's
    /// `Event.wait` does). `false` only if it was not set and this green thread may not wait
    /// now ([`CannotPark`]: in a destructor during an unwind).
    pub fn wait(&self) -> bool {
        self.wait_until(None)
    }

    /// Blocks this green thread until the event is set or `timeout` has passed; says whether
    /// it was set.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(Instant::now().checked_add(timeout))
    }

    /// Waits until the event is set or `deadline` (if any) has passed.
    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let timer = deadline.map(Timer::at);
        let was_set = park_until(|cx| match (self.poll_set(cx), &timer) {
            (Poll::Ready(()), _) => Poll::Ready(true),
            (Poll::Pending, Some(timer)) => timer.poll_fired(cx).map(|()| false),
            (Poll::Pending, None) => Poll::Pending,
        })
        .unwrap_or_else(|refused| {
            refused.or_panic_if_misused();
            false
        });
        if !was_set {
            // Timed out, or could not wait: take our waker back, or `set` would wake a green
            // thread that has stopped waiting (and the list would grow with every timeout).
            let ours = hub::own_waker();
            self.state
                .borrow_mut()
                .waiters
                .retain(|waiter| !waiter.will_wake(&ours));
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
        add_to_queue(&mut state.waiters, cx);
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
    /// one then queues again). Only green threads still waiting are here: each takes its
    /// waker out when its wait ends, however it ends ([`Leave`]), so that a freed place never
    /// goes to a waker nobody waits behind.
    spawners: VecDeque<Waker>,
    /// Green threads waiting in `join` for the pool to be empty (likewise).
    joiners: VecDeque<Waker>,
}

// ANCHOR: leave
/// Takes a green thread's waker out of one of a pool's wait lists when dropped: when its wait
/// ends, because it got what it waited for, could not wait, or was unwound.
struct Leave<'a> {
    /// The pool.
    pool: &'a Pool,
    /// The list: the spawners' or the joiners'.
    list: fn(&mut PoolState) -> &mut VecDeque<Waker>,
    /// The waker the wait leaves in the list (the running green thread's).
    waker: Waker,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.state.borrow_mut();
        (self.list)(&mut state).retain(|w| !w.will_wake(&self.waker));
    }
}
// ANCHOR_END: leave

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
                woken.extend(state.joiners.drain(..));
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
                joiners: VecDeque::new(),
            })),
        }
    }

    /// Blocks this green thread until the pool has a free place, then starts `f` in it. Fails
    /// if the green thread cannot be created, or if the pool is full and this green thread may
    /// not wait now (a [`CannotPark`], as the error's inner error).
    pub fn try_spawn<F, T>(&self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        let _leave = self.leave_on_drop(|state| &mut state.spawners);
        park_until(|cx| {
            let mut state = self.state.borrow_mut();
            if state.running < state.size {
                state.running += 1;
                return Poll::Ready(());
            }
            add_to_queue(&mut state.spawners, cx);
            Poll::Pending
        })
        .map_err(|refused| io::Error::other(refused.or_panic_if_misused()))?;
        let place = Place(self.clone());
        try_spawn(move || {
            let _place = place;
            f()
        })
    }

    /// [`Pool::try_spawn`], panicking if the green thread cannot be created (or the pool is
    /// full and this green thread may not wait: use `try_spawn` in destructors).
    pub fn spawn<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        self.try_spawn(f)
            .unwrap_or_else(|e| panic!("cannot start a green thread in the pool: {e}"))
    }

    /// Blocks this green thread until every green thread of the pool has finished; says
    /// whether they have (as gevent's `Pool.join` does): `false` only if this green thread
    /// may not wait now ([`CannotPark`]).
    pub fn join(&self) -> bool {
        let _leave = self.leave_on_drop(|state| &mut state.joiners);
        park_until(|cx| {
            let mut state = self.state.borrow_mut();
            if state.running == 0 {
                return Poll::Ready(());
            }
            add_to_queue(&mut state.joiners, cx);
            Poll::Pending
        })
        .map_err(CannotPark::or_panic_if_misused)
        .is_ok()
    }

    /// A guard that takes the running green thread's waker out of `list` when dropped.
    fn leave_on_drop(&self, list: fn(&mut PoolState) -> &mut VecDeque<Waker>) -> Leave<'_> {
        Leave {
            pool: self,
            list,
            waker: hub::own_waker(),
        }
    }

    /// How many more green threads could start now without waiting.
    pub fn free_count(&self) -> usize {
        let state = self.state.borrow();
        state.size - state.running
    }
}
// ANCHOR_END: pool
