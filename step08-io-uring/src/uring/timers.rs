//! The ring's timers: a heap of deadlines, as step 5's reactor keeps. A timer costs no entry on
//! the ring: `turn` waits no longer than the nearest deadline (`io_uring_enter` takes a
//! timeout), and fires what is due when it wakes. (A first version made every timer an
//! operation, `IORING_OP_TIMEOUT`: each connection's deadline then cost two entries, the timer
//! and its cancel, and about a quarter more CPU per connection. Chapter 8 tells the story.)

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

/// A timer: its slot and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerKey(usize, u64);

/// One timer.
struct Timer {
    generation: u64,
    waker: Option<Waker>,
    fired: bool,
}

/// The timers of a ring.
#[derive(Default)]
pub struct Timers {
    timers: Slab<Timer>,
    deadlines: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    next_generation: u64,
}

impl Timers {
    /// Adds a timer for `deadline`.
    pub fn add(&mut self, deadline: Instant) -> TimerKey {
        let generation = self.next_generation;
        self.next_generation += 1;
        let key = self.timers.insert(Timer {
            generation,
            waker: None,
            fired: false,
        });
        self.deadlines.push(Reverse((deadline, key, generation)));
        TimerKey(key, generation)
    }

    /// Has the timer fired? If not, keeps the waker of `cx`.
    pub fn poll(&mut self, timer: TimerKey, cx: &mut Context<'_>) -> Poll<()> {
        match self
            .timers
            .get_mut(timer.0)
            .filter(|t| t.generation == timer.1)
        {
            Some(t) if t.fired => Poll::Ready(()),
            Some(t) => {
                match &t.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => t.waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            None => Poll::Ready(()),
        }
    }

    /// Removes a timer (fired or not).
    pub fn remove(&mut self, timer: TimerKey) {
        if self
            .timers
            .get(timer.0)
            .is_some_and(|t| t.generation == timer.1)
        {
            self.timers.remove(timer.0);
        }
    }

    /// How long until the nearest pending timer, if there is one.
    pub fn next_timeout(&mut self) -> Option<Duration> {
        while let Some(Reverse((deadline, key, generation))) = self.deadlines.peek() {
            let pending = self
                .timers
                .get(*key)
                .is_some_and(|t| t.generation == *generation && !t.fired);
            if pending {
                return Some(deadline.saturating_duration_since(Instant::now()));
            }
            self.deadlines.pop();
        }
        None
    }

    /// Marks every timer due by `now` fired, and takes its waker.
    pub fn fire_due(&mut self, now: Instant, to_wake: &mut Vec<Waker>) {
        while let Some(Reverse((deadline, key, generation))) = self.deadlines.peek().copied() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            if let Some(timer) = self
                .timers
                .get_mut(key)
                .filter(|t| t.generation == generation)
            {
                timer.fired = true;
                to_wake.extend(timer.waker.take());
            }
        }
    }

    /// How many timers exist (for tests).
    pub fn len(&self) -> usize {
        self.timers.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }
}
