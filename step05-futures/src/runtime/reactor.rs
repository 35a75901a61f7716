//! The reactor: the part of the runtime that talks to the kernel.
//!
//! It owns mio's `Poll`. Every I/O object registers its socket here under a token, and a
//! future that finds its socket not ready leaves its [`Waker`] here, one per direction (read,
//! write). When the kernel reports the socket ready, the reactor marks the direction ready and
//! wakes the waker: it does not run any code of the future, it only says "poll this again".
//! Timers work the same way: a [`Sleep`](crate::time::Sleep) leaves its waker under a deadline.
//!
//! ## Readiness, and the race it avoids
//!
//! Each direction remembers whether the kernel said it was ready, with a *tick* that counts
//! the reports. A future first asks for readiness ([`Reactor::poll_ready`]); if the direction is
//! ready, it tries the operation; if the operation still says `WouldBlock` (the readiness was
//! used up, or was a false alarm), it clears the readiness ([`Reactor::clear_ready`]) *only if
//! no new report arrived meanwhile*, which is what the tick tells. Clearing unconditionally
//! could erase a report that came in between the failed attempt and the clear; the future would
//! then wait for a wake that already happened, forever: a lost wakeup.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Token};
use slab::Slab;

use crate::run_queue::{Driver, Interrupt};
pub use crate::runtime::timers::TimerKey;
use crate::runtime::timers::Timers;
use crate::trace::trace;

/// The token of mio's cross-thread waker: a wake from another thread interrupts `poll`.
const WAKE_TOKEN: Token = Token(usize::MAX);

/// How many bits of a token hold the slab key; the rest hold the generation.
const KEY_BITS: u32 = usize::BITS / 2;

/// The token of slab slot `key` in its `generation`: the key in the low bits, the generation
/// above them.
fn token(key: usize, generation: u32) -> Token {
    Token(key | ((generation as usize) << KEY_BITS))
}

/// A token's slab key and generation.
fn split(token: Token) -> (usize, u32) {
    (
        token.0 & ((1 << KEY_BITS) - 1),
        (token.0 >> KEY_BITS) as u32,
    )
}

/// A token as traces print it: slot and generation, `3.1`.
pub fn token_name(token: Token) -> String {
    let (key, generation) = split(token);
    format!("{key}.{generation}")
}

/// A direction of readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Reading (or accepting).
    Read = 0,
    /// Writing (or a connect finishing).
    Write = 1,
}

/// What the reactor knows about one direction of one registration.
#[derive(Debug, Default)]
struct Readiness {
    /// The kernel reported it ready and nobody has found it not ready since.
    ready: bool,
    /// Counts the kernel's reports, so a clear can tell whether a new one came in meanwhile.
    tick: u64,
    /// The future waiting for this direction, if any.
    waker: Option<Waker>,
}

/// One registered socket.
#[derive(Debug)]
struct Registration {
    /// Part of the token: a token of an earlier registration in the same slot is stale.
    generation: u32,
    /// Read and write readiness.
    directions: [Readiness; 2],
}

/// The reactor. One per runtime, shared (`Rc<RefCell<_>>`) by the runtime and every I/O object
/// and timer created in it.
pub struct Reactor {
    /// mio's poll instance.
    poll: mio::Poll,
    /// Where `poll` writes events.
    events: Events,
    /// Registered sockets.
    registrations: Slab<Registration>,
    /// Pending timers.
    timers: Timers,
    /// The next generation to hand out.
    next_generation: u32,
    /// Wakes `poll` from another thread.
    waker: Arc<mio::Waker>,
    /// How many runtimes have it installed now ([`Reactor::enter`]). At zero, its runtime has
    /// ended and nobody will turn it again: a socket or timer that waits on it would wait
    /// forever, so it is refused instead.
    entered: usize,
}

thread_local! {
    /// The reactor of the runtime running on this thread, set by `block_on`.
    static CURRENT: RefCell<Option<Rc<RefCell<Reactor>>>> = const { RefCell::new(None) };
}

/// Makes `reactor` the current one for as long as the guard lives (see [`Reactor::enter`]).
pub struct CurrentGuard {
    /// The reactor it installed.
    installed: Rc<RefCell<Reactor>>,
    /// The one that was current before (block_on does not nest, but be tidy).
    previous: Option<Rc<RefCell<Reactor>>>,
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        self.installed.borrow_mut().entered -= 1;
        CURRENT.with(|current| *current.borrow_mut() = self.previous.take());
    }
}

/// The error of a socket whose runtime has ended (see [`Reactor::poll_ready`]).
fn stopped() -> io::Error {
    io::Error::other(
        "the socket's runtime has ended: it was created inside a block_on that has returned, \
         and nobody turns that reactor any more (use sockets inside the block_on that created \
         them)",
    )
}

impl Reactor {
    /// A new reactor (`epoll_create`, and an eventfd for cross-thread wakes, on Linux).
    pub fn new() -> io::Result<Reactor> {
        let poll = mio::Poll::new()?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKE_TOKEN)?);
        Ok(Reactor {
            poll,
            events: Events::with_capacity(1024),
            registrations: Slab::new(),
            timers: Timers::default(),
            next_generation: 0,
            waker,
            entered: 0,
        })
    }

    /// Installs `reactor` as this thread's current reactor until the guard is dropped. `block_on`
    /// does it; so does any other scheduler built on this reactor (step 7's hub).
    pub fn enter(reactor: Rc<RefCell<Reactor>>) -> CurrentGuard {
        reactor.borrow_mut().entered += 1;
        let installed = Rc::clone(&reactor);
        let previous = CURRENT.with(|current| current.borrow_mut().replace(reactor));
        CurrentGuard {
            installed,
            previous,
        }
    }

    /// The current reactor, if this thread is running one.
    pub fn try_current() -> Option<Rc<RefCell<Reactor>>> {
        CURRENT.with(|current| current.borrow().clone())
    }

    /// The current reactor. Panics outside a runtime: I/O objects and timers only work inside
    /// [`block_on`](crate::block_on).
    pub fn current() -> Rc<RefCell<Reactor>> {
        CURRENT.with(|current| current.borrow().clone()).expect(
            "no reactor on this thread: create sockets and timers inside step05_futures::block_on",
        )
    }

    /// The next generation, wrapped to fit the token.
    fn generation(&mut self) -> u32 {
        let generation = self.next_generation & ((1u64 << (usize::BITS - KEY_BITS)) - 1) as u32;
        self.next_generation = self.next_generation.wrapping_add(1);
        generation
    }

    /// Registers `source` for reading and writing (edge-triggered, as mio always is). The
    /// returned token identifies it from now on.
    pub fn register(&mut self, source: &mut impl Source) -> io::Result<Token> {
        let generation = self.generation();
        let key = self.registrations.vacant_key();
        let token = token(key, generation);
        self.poll
            .registry()
            .register(source, token, Interest::READABLE | Interest::WRITABLE)?;
        self.registrations.insert(Registration {
            generation,
            directions: Default::default(),
        });
        trace!("reactor: socket registered as token {}", token_name(token));
        Ok(token)
    }

    /// Deregisters `source` and forgets its token: any later event or wake for it is dropped.
    pub fn deregister(&mut self, source: &mut impl Source, token: Token) {
        let _ = self.poll.registry().deregister(source);
        if self.registration(token).is_some() {
            self.registrations.remove(split(token).0);
            trace!("reactor: token {} deregistered", token_name(token));
        }
    }

    /// The registration of `token`, if it is still the one the token names.
    fn registration(&mut self, token: Token) -> Option<&mut Registration> {
        let (key, generation) = split(token);
        self.registrations
            .get_mut(key)
            .filter(|r| r.generation == generation)
    }

    /// How many sockets are registered (for tests: it must come back to zero).
    pub fn live_registrations(&self) -> usize {
        self.registrations.len()
    }

    /// How many wakers are waiting (on sockets or timers): for tests, a dropped future must
    /// take its waker back.
    pub fn waiting_wakers(&self) -> usize {
        let sockets = self
            .registrations
            .iter()
            .flat_map(|(_, r)| &r.directions)
            .filter(|d| d.waker.is_some())
            .count();
        sockets + self.timers.waiting()
    }

    /// What in the reactor holds a waker of the same task as `waker`, in words: the sockets (by token) and directions it
    /// waits for, and the timers, with how long until each fires. Empty if nothing here does
    /// (the task waits on something else: an `Event`, a lock, a `JoinHandle`, a channel).
    pub fn holding(&self, waker: &Waker) -> Vec<String> {
        let mut held = Vec::new();
        for (key, registration) in &self.registrations {
            for (direction, readiness) in [Direction::Read, Direction::Write]
                .into_iter()
                .zip(&registration.directions)
            {
                if readiness
                    .waker
                    .as_ref()
                    .is_some_and(|w| same_task(w, waker))
                {
                    let token = token(key, registration.generation);
                    held.push(format!(
                        "socket {} to be {direction:?} ready",
                        token_name(token)
                    ));
                }
            }
        }
        let now = Instant::now();
        for deadline in self.timers.holding(waker) {
            let left = deadline.saturating_duration_since(now).as_secs_f64() * 1e3;
            held.push(format!("a timer, due in {left:.1} ms"));
        }
        held
    }

    /// How many timers are pending.
    pub fn live_timers(&self) -> usize {
        self.timers.len()
    }

    // ANCHOR: poll_ready
    /// Is `direction` of `token` ready? If so, the current tick (to pass to `clear_ready`). If
    /// not, the waker of `cx` is kept, to be woken by the next report. An error if the
    /// reactor's runtime has ended (tokio answers such a socket with an error too): waiting
    /// would be waiting forever.
    ///
    /// (A waker replaced here, or removed by `drop_waker`, `deregister` or `remove_timer`, is
    /// dropped while the reactor is borrowed. That is fine for our executor's wakers, whose
    /// drop only lowers a count; a runtime that accepted anyone's wakers would have to drop
    /// them after the borrow, as `turn` does for waking.)
    pub fn poll_ready(
        &mut self,
        token: Token,
        direction: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<u64>> {
        if self.entered == 0 {
            // Its runtime has ended: nobody will turn this reactor to wake us.
            return Poll::Ready(Err(stopped()));
        }
        let Some(registration) = self.registration(token) else {
            // Not (or no longer) registered: waiting would be waiting forever.
            let gone = io::Error::new(
                io::ErrorKind::NotConnected,
                "the socket is not registered with this reactor",
            );
            return Poll::Ready(Err(gone));
        };
        let readiness = &mut registration.directions[direction as usize];
        if readiness.ready {
            return Poll::Ready(Ok(readiness.tick));
        }
        // Keep the waker, but do not replace it by an equal one (a clone costs an atomic
        // increment, and most polls come from the same task).
        match &readiness.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => readiness.waker = Some(cx.waker().clone()),
        }
        trace!(
            "reactor: token {} not {direction:?} ready: keep the waker",
            token_name(token)
        );
        Poll::Pending
    }

    /// The operation said `WouldBlock` after `poll_ready` returned `tick`: the direction is not
    /// ready after all. Clears it, unless a new report has arrived since `tick`.
    pub fn clear_ready(&mut self, token: Token, direction: Direction, tick: u64) {
        if let Some(registration) = self.registration(token) {
            let readiness = &mut registration.directions[direction as usize];
            if readiness.tick == tick {
                readiness.ready = false;
            }
        }
    }
    // ANCHOR_END: poll_ready

    /// Forgets the waker waiting on `direction` of `token`: its future was dropped.
    pub fn drop_waker(&mut self, token: Token, direction: Direction) {
        if let Some(registration) = self.registration(token) {
            registration.directions[direction as usize].waker = None;
        }
    }

    /// Adds a timer for `deadline`.
    pub fn add_timer(&mut self, deadline: Instant) -> TimerKey {
        let generation = self.generation();
        self.timers.add(deadline, generation)
    }

    /// Has the timer fired? If not, keeps the waker of `cx`. Panics if the reactor's runtime
    /// has ended (a timer from an earlier `block_on`): it would never fire.
    pub fn poll_timer(&mut self, timer: TimerKey, cx: &mut Context<'_>) -> Poll<()> {
        assert!(
            self.entered > 0,
            "a timer of a runtime that has ended: it was first polled inside a block_on that has \
             returned, and nobody turns that reactor any more"
        );
        self.timers.poll(timer, cx)
    }

    /// Removes a timer (fired or not).
    pub fn remove_timer(&mut self, timer: TimerKey) {
        self.timers.remove(timer);
    }

    // ANCHOR: turn
    /// Waits for the kernel's news (no longer than `timeout`, nor than the nearest timer), marks
    /// what is ready, and returns the wakers to wake. The caller wakes them once the reactor
    /// is no longer borrowed: waking runs code of the runtime, which may need the reactor.
    pub fn turn(&mut self, timeout: Option<Duration>) -> io::Result<Vec<Waker>> {
        let timeout = match (timeout, self.timers.next_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        if crate::trace::enabled() {
            let n = self.events.iter().count();
            trace!(
                "reactor: epoll_wait returned {n} event{}",
                if n == 1 { "" } else { "s" }
            );
        }
        let mut to_wake = Vec::new();
        self.mark_ready(&mut to_wake);
        self.timers.fire_due(Instant::now(), &mut to_wake);
        Ok(to_wake)
    }

    /// For each of the kernel's reports: marks the direction ready (a new tick), and takes the
    /// waker waiting for it, if any.
    fn mark_ready(&mut self, to_wake: &mut Vec<Waker>) {
        let events: Vec<(Token, bool, bool)> = self
            .events
            .iter()
            .map(|e| {
                let failed = e.is_error();
                (
                    e.token(),
                    e.is_readable() || e.is_read_closed() || failed,
                    e.is_writable() || e.is_write_closed() || failed,
                )
            })
            .collect();
        for (token, readable, writable) in events {
            if token == WAKE_TOKEN {
                continue; // another thread woke us; its waker has queued its task already
            }
            let Some(registration) = self.registration(token) else {
                continue; // deregistered meanwhile
            };
            for (direction, happened) in [(Direction::Read, readable), (Direction::Write, writable)]
            {
                if happened {
                    let readiness = &mut registration.directions[direction as usize];
                    readiness.ready = true;
                    readiness.tick += 1;
                    if let Some(waker) = readiness.waker.take() {
                        trace!(
                            "reactor: token {} {direction:?} ready: hand back its waker",
                            token_name(token)
                        );
                        to_wake.push(waker);
                    }
                }
            }
        }
    }
    // ANCHOR_END: turn
}

/// The reactor is what step 5's executor (and step 7's hub) sleeps in.
impl Driver for Reactor {
    const NAME: &'static str = "reactor";
    const SLEEPS_IN: &'static str = "epoll_wait";

    fn turn(&mut self, timeout: Option<Duration>) -> io::Result<Vec<Waker>> {
        Reactor::turn(self, timeout)
    }

    /// The reactor's `mio::Waker` (an eventfd registered with its epoll instance).
    fn interrupter(&self) -> Arc<dyn Interrupt> {
        Arc::clone(&self.waker) as Arc<dyn Interrupt>
    }
}

/// Whether two wakers wake the same task: the same data pointer (for our executor's wakers, the
/// task's `Arc<TaskWaker>`). `Waker::will_wake` also compares the vtables, which the compiler
/// may duplicate across codegen units, so in an optimised build it can say "no" for two
/// wakers of one task: fine for its purpose (skipping a clone), not for a dump.
pub fn same_task(a: &Waker, b: &Waker) -> bool {
    a.data() == b.data()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mio::net::UnixStream;

    /// The race of the module documentation, played out by hand: a report arrives between the
    /// failed attempt and the clear. The clear must not erase it.
    #[test]
    fn a_report_between_attempt_and_clear_is_not_lost() {
        let mut reactor = Reactor::new().unwrap();
        reactor.entered = 1; // as if a runtime had installed it
        let (mut ours, _theirs) = UnixStream::pair().unwrap();
        let token = reactor.register(&mut ours).unwrap();
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        // A report comes in (by hand: bump the direction as `turn` would).
        let bump = |reactor: &mut Reactor| {
            let readiness =
                &mut reactor.registration(token).unwrap().directions[Direction::Read as usize];
            readiness.ready = true;
            readiness.tick += 1;
        };
        bump(&mut reactor);
        let Poll::Ready(Ok(tick)) = reactor.poll_ready(token, Direction::Read, &mut cx) else {
            panic!("ready")
        };
        // ... the read says WouldBlock, and before the clear, a new report arrives:
        bump(&mut reactor);
        reactor.clear_ready(token, Direction::Read, tick);
        assert!(
            reactor
                .poll_ready(token, Direction::Read, &mut cx)
                .is_ready(),
            "the new report was lost"
        );
        // Without a new report, the clear does clear.
        let Poll::Ready(Ok(tick)) = reactor.poll_ready(token, Direction::Read, &mut cx) else {
            panic!("ready")
        };
        reactor.clear_ready(token, Direction::Read, tick);
        assert!(
            reactor
                .poll_ready(token, Direction::Read, &mut cx)
                .is_pending()
        );
    }

    /// A token of a deregistered socket names nothing, even when a new socket takes its slot.
    #[test]
    fn a_reused_slot_does_not_answer_to_an_old_token() {
        let mut reactor = Reactor::new().unwrap();
        let (mut first, _a) = UnixStream::pair().unwrap();
        let old = reactor.register(&mut first).unwrap();
        reactor.deregister(&mut first, old);
        let (mut second, _b) = UnixStream::pair().unwrap();
        let new = reactor.register(&mut second).unwrap();
        assert_ne!(old, new, "same slot, new generation");
        assert!(reactor.registration(old).is_none());
        assert!(reactor.registration(new).is_some());
        assert_eq!(reactor.live_registrations(), 1);
    }
}
