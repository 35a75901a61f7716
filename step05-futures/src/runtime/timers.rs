//! Timers: a heap of deadlines, which a driver waits no longer than, and fires when it wakes.
//! Step 5's reactor keeps one; so does step 8's ring (a timer there costs no entry on the
//! ring).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::trace::trace;

/// A timer: who to wake, and whether it has fired.
#[derive(Debug)]
struct Timer {
    /// Its generation, part of its key.
    generation: u32,
    /// The sleeping future's waker.
    waker: Option<Waker>,
    /// Set when the deadline has passed.
    fired: bool,
}

/// A timer's identity: slab key and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerKey(usize, u32);

/// The pending timers of one driver.
#[derive(Debug, Default)]
pub struct Timers {
    /// Pending timers.
    timers: Slab<Timer>,
    /// (deadline, timer key, generation), earliest first; entries of removed timers are
    /// skipped when they come up. (So a cancelled timer's entry stays until its deadline: fine
    /// for a fan-out, costly for a server cancelling many long timeouts a second, which is why
    /// production runtimes use timer wheels.)
    deadlines: BinaryHeap<Reverse<(Instant, usize, u32)>>,
}

impl Timers {
    /// Adds a timer for `deadline`, under `generation` (the driver's counter, so that a key of
    /// an earlier timer in the same slot is stale).
    pub fn add(&mut self, deadline: Instant, generation: u32) -> TimerKey {
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

    /// How long until the earliest pending timer, if there is one.
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
                if let Some(waker) = timer.waker.take() {
                    trace!("timers: timer {key} fired: hand back its waker");
                    to_wake.push(waker);
                }
            }
        }
    }

    /// How many timers are pending.
    pub fn len(&self) -> usize {
        self.timers.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }

    /// How many timers have a waker waiting.
    pub fn waiting(&self) -> usize {
        self.timers
            .iter()
            .filter(|(_, t)| t.waker.is_some())
            .count()
    }
}
