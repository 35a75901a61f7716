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
    /// When it fires (also in the heap; kept here for [`Timers::holding`]).
    deadline: Instant,
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
    /// (deadline, timer key, generation), earliest first. A heap cannot take out an entry from
    /// its middle, so a removed timer's entry stays, and is skipped when it comes up; when such
    /// entries are more than half the heap, `remove` rebuilds it without them.
    deadlines: BinaryHeap<Reverse<(Instant, usize, u32)>>,
}

impl Timers {
    /// Adds a timer for `deadline`, under `generation` (the driver's counter, so that a key of
    /// an earlier timer in the same slot is stale).
    pub fn add(&mut self, deadline: Instant, generation: u32) -> TimerKey {
        let key = self.timers.insert(Timer {
            generation,
            deadline,
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
            self.sweep_if_stale();
        }
    }

    // ANCHOR: sweep
    /// Rebuilds the heap with only the pending timers' entries, once the others are more than
    /// half of it. A server that sets a long timeout for every request and cancels it when the
    /// request is done would otherwise keep every cancelled deadline until it passes: at ten
    /// thousand requests a second with 10 s timeouts, a hundred thousand dead entries. Sweeping
    /// at half keeps the heap under twice the pending timers (and 64), and costs each removal a
    /// constant on average: a sweep of `n` entries comes only after `n / 2` removals.
    fn sweep_if_stale(&mut self) {
        let entries = self.deadlines.len();
        if entries <= 64 || entries <= 2 * self.timers.len() {
            return;
        }
        let timers = &self.timers;
        self.deadlines.retain(|Reverse((_, key, generation))| {
            timers
                .get(*key)
                .is_some_and(|t| t.generation == *generation && !t.fired)
        });
        trace!(
            "timers: swept {} cancelled deadlines, {} left",
            entries - self.deadlines.len(),
            self.deadlines.len()
        );
    }
    // ANCHOR_END: sweep

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

    /// How many deadlines the heap holds, those of removed timers included.
    pub fn heap_len(&self) -> usize {
        self.deadlines.len()
    }

    /// The deadlines of the pending timers that hold `waker` (for a task dump).
    pub fn holding(&self, waker: &Waker) -> Vec<Instant> {
        self.timers
            .iter()
            .filter(|(_, t)| {
                !t.fired
                    && t.waker
                        .as_ref()
                        .is_some_and(|w| crate::reactor::same_task(w, waker))
            })
            .map(|(_, t)| t.deadline)
            .collect()
    }

    /// How many timers have a waker waiting.
    pub fn waiting(&self) -> usize {
        self.timers
            .iter()
            .filter(|(_, t)| t.waker.is_some())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::task::{Context, Waker};
    use std::time::{Duration, Instant};

    use super::Timers;

    /// A hundred thousand timers set and cancelled, ten pending at a time, as a server's
    /// timeouts are: the heap never holds much more than twice the pending timers (or 64), and
    /// the ten still pending at the end all fire (a sweep that dropped a pending timer's
    /// deadline would leave it waiting forever).
    #[test]
    fn cancelled_deadlines_are_swept_and_pending_ones_kept() {
        let mut timers = Timers::default();
        let now = Instant::now();
        let mut pending = VecDeque::new();
        for generation in 0..100_000u32 {
            let deadline = now + Duration::from_secs(10) + Duration::from_nanos(generation.into());
            pending.push_back(timers.add(deadline, generation));
            if pending.len() > 10 {
                timers.remove(pending.pop_front().unwrap());
            }
            assert!(
                timers.heap_len() <= (2 * timers.len()).max(64) + 1,
                "{} entries for {} pending timers",
                timers.heap_len(),
                timers.len()
            );
        }
        let mut to_wake = Vec::new();
        timers.fire_due(now + Duration::from_secs(11), &mut to_wake);
        let mut cx = Context::from_waker(Waker::noop());
        for key in pending {
            assert!(timers.poll(key, &mut cx).is_ready(), "{key:?} never fired");
        }
    }
}
