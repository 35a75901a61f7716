//! The event loop: Tornado's `IOLoop`, on mio.
//!
//! Step 3's loop, with the HTTP taken out: sources of events (sockets) are registered together
//! with the *callback* to run when they are ready, and the loop, started by the user, waits
//! and dispatches. Timers (`call_later`) and deferred calls (`call_soon`) go through the same
//! loop: the nearest timer bounds how long a wait may sleep.
//!
//! ## Who owns what
//!
//! The loop *owns* every registered source, together with its callback, in a slab of handlers:
//! the callback gets `&mut` access to its source each time it runs. State that belongs to one
//! connection can live in the callback itself (captured by `move`), so it is owned by the loop
//! too. State that several callbacks share cannot be owned by any one of them: it goes behind
//! `Rc<RefCell<_>>`, and the loop handle itself is such a shared value ([`IoLoop`] is a cheap
//! `Clone` of an `Rc`). The loop never holds its own `RefCell` borrowed while a callback runs,
//! so callbacks may add and remove handlers, add timers and stop the loop.
//!
//! Creating a loop can fail (the kernel may refuse an epoll instance): [`IoLoop::new`] returns
//! the error, and the fan-out reports it as every connection's failure (the workspace's policy,
//! in `testbed::variants`).

use std::any::Any;
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

/// What the kernel reported for a handler's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ready {
    /// The handler's token (what `add_handler` returned).
    pub token: Token,
    /// Reading would not block (data, end-of-file, or a pending connection).
    pub readable: bool,
    /// Writing would not block (room to write, or a connect that has finished).
    pub writable: bool,
    /// The peer closed its side, or the connection broke.
    pub closed: bool,
    /// An error is pending on the socket (`take_error` says which).
    pub error: bool,
}

// ANCHOR: handler
/// A registered source and its callback, with the source's type erased.
trait Handler {
    /// The source, to register, reregister or deregister it.
    fn source(&mut self) -> &mut dyn Source;
    /// Runs the callback.
    fn call(&mut self, io_loop: &IoLoop, ready: Ready);
    /// The source, to hand it back to its owner ([`IoLoop::detach`]).
    fn into_source(self: Box<Self>) -> Box<dyn Any>;
}

/// A source of type `S` with its callback.
struct Entry<S, F> {
    source: S,
    callback: F,
}

impl<S, F> Handler for Entry<S, F>
where
    S: Source + 'static,
    F: FnMut(&IoLoop, &mut S, Ready) + 'static,
{
    fn source(&mut self) -> &mut dyn Source {
        &mut self.source
    }

    fn call(&mut self, io_loop: &IoLoop, ready: Ready) {
        (self.callback)(io_loop, &mut self.source, ready);
    }

    fn into_source(self: Box<Self>) -> Box<dyn Any> {
        Box::new(self.source)
    }
}
// ANCHOR_END: handler

/// One slot of the handler slab.
struct Slot {
    /// Bumped whenever the slot is reused, and part of the token: an event for an earlier
    /// handler in this slot is recognised as stale and dropped.
    generation: u32,
    /// The handler, or `None` while its callback is running (it is taken out for the call).
    handler: Option<Box<dyn Handler>>,
    /// Set when the handler is removed during its own callback: it is dropped afterwards
    /// instead of being put back.
    removed: bool,
    /// An interest change asked for during the handler's own callback, applied afterwards.
    new_interest: Option<Interest>,
}

/// A callback to run once.
type Callback = Box<dyn FnOnce(&IoLoop)>;

/// The loop's state, behind the handle's `RefCell`.
struct Inner {
    /// mio's poll instance: epoll on Linux, kqueue on the BSDs.
    poll: Poll,
    /// The registered handlers; a token is (generation << 32) | key.
    handlers: Slab<Slot>,
    /// Next generation to hand out.
    next_generation: u32,
    /// Timers, earliest first: (deadline, timer id); ids grow, so equal deadlines fire in the
    /// order they were set. Cancelled timers stay in the heap and are skipped when they come up.
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    /// The callbacks of pending timers, by id.
    timer_callbacks: HashMap<u64, Callback>,
    /// Next timer id.
    next_timer: u64,
    /// `call_soon` callbacks, in order.
    soon: VecDeque<Callback>,
    /// Cleared by `stop`.
    running: bool,
}

/// A handle to an event loop. Clones are handles to the same loop.
#[derive(Clone)]
pub struct IoLoop {
    inner: Rc<RefCell<Inner>>,
}

/// A timer set by [`IoLoop::call_later`], to cancel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId(u64);

/// How many bits of a token hold the slab key; the rest hold the generation.
const KEY_BITS: u32 = usize::BITS / 2;

/// The token of slab key `key` in generation `generation`.
fn token_of(key: usize, generation: u32) -> Token {
    Token(key | ((generation as usize) << KEY_BITS))
}

/// Splits a token into (slab key, generation).
fn parts(token: Token) -> (usize, u32) {
    (
        token.0 & ((1 << KEY_BITS) - 1),
        (token.0 >> KEY_BITS) as u32,
    )
}

impl IoLoop {
    /// A new loop (`epoll_create` on Linux).
    pub fn new() -> io::Result<IoLoop> {
        Ok(IoLoop {
            inner: Rc::new(RefCell::new(Inner {
                poll: Poll::new()?,
                handlers: Slab::new(),
                next_generation: 0,
                timers: BinaryHeap::new(),
                timer_callbacks: HashMap::new(),
                next_timer: 0,
                soon: VecDeque::new(),
                running: false,
            })),
        })
    }

    // ANCHOR: add_handler
    /// Registers `source` for `interest` and runs `callback` every time it is ready. The loop
    /// owns the source from now on; the callback gets it as `&mut S`. Returns the handler's
    /// token, for `update_handler`, `remove_handler` and `detach`.
    ///
    /// mio reports readiness once per change (edge-triggered), so a callback must read or
    /// write until the call says `WouldBlock`, or it will not be called again for what is
    /// already there.
    pub fn add_handler<S, F>(
        &self,
        mut source: S,
        interest: Interest,
        callback: F,
    ) -> io::Result<Token>
    where
        S: Source + 'static,
        F: FnMut(&IoLoop, &mut S, Ready) + 'static,
    {
        let mut inner = self.inner.borrow_mut();
        // Generations wrap within the bits the token has for them.
        let generation = inner.next_generation & ((1u64 << (usize::BITS - KEY_BITS)) - 1) as u32;
        inner.next_generation = inner.next_generation.wrapping_add(1);
        let token = token_of(inner.handlers.vacant_key(), generation);
        inner
            .poll
            .registry()
            .register(&mut source, token, interest)?;
        let handler: Box<dyn Handler> = Box::new(Entry { source, callback });
        inner.handlers.insert(Slot {
            generation,
            handler: Some(handler),
            removed: false,
            new_interest: None,
        });
        Ok(token)
    }
    // ANCHOR_END: add_handler

    /// Looks up the slot of `token`, if it is still the handler that token names.
    fn slot(handlers: &mut Slab<Slot>, token: Token) -> Option<&mut Slot> {
        let (key, generation) = parts(token);
        handlers
            .get_mut(key)
            .filter(|slot| slot.generation == generation && !slot.removed)
    }

    /// Changes what the handler waits for.
    pub fn update_handler(&self, token: Token, interest: Interest) -> io::Result<()> {
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        let Some(slot) = Self::slot(&mut inner.handlers, token) else {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such handler"));
        };
        match &mut slot.handler {
            Some(handler) => inner
                .poll
                .registry()
                .reregister(handler.source(), token, interest),
            // Its callback is running: apply the change when it returns.
            None => {
                slot.new_interest = Some(interest);
                Ok(())
            }
        }
    }

    /// Stops watching the handler's source and drops it (closing a socket). A handler removed
    /// while the loop is dispatching, even from its own callback, is never called again.
    pub fn remove_handler(&self, token: Token) {
        let _ = self.take(token);
    }

    /// Stops watching the handler's source and returns it, if it is of type `S`. Called from
    /// the handler's own callback, this returns `None` (the callback is using the source): use
    /// [`IoLoop::detach`] there.
    pub fn take_handler<S: 'static>(&self, token: Token) -> Option<S> {
        self.take(token)?
            .into_source()
            .downcast::<S>()
            .ok()
            .map(|source| *source)
    }

    /// Removes the handler of `token` from the slab, deregistered, if it is there.
    fn take(&self, token: Token) -> Option<Box<dyn Handler>> {
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        let (key, _) = parts(token);
        let slot = Self::slot(&mut inner.handlers, token)?;
        let Some(mut handler) = slot.handler.take() else {
            // Removed from inside its own callback: the dispatcher drops it afterwards.
            slot.removed = true;
            return None;
        };
        inner.handlers.remove(key);
        let _ = inner.poll.registry().deregister(handler.source());
        Some(handler)
    }

    /// After the current callback returns, stops watching the handler's source and hands it,
    /// as an `S`, to `then`: the way a callback passes its own socket on to the next stage.
    pub fn detach<S: 'static>(&self, token: Token, then: impl FnOnce(&IoLoop, S) + 'static) {
        self.call_soon(move |io_loop| {
            if let Some(source) = io_loop.take_handler::<S>(token) {
                then(io_loop, source);
            }
        });
    }

    // ANCHOR: call_later
    /// Runs `callback` on the next turn of the loop, before it waits again.
    pub fn call_soon(&self, callback: impl FnOnce(&IoLoop) + 'static) {
        self.inner.borrow_mut().soon.push_back(Box::new(callback));
    }

    /// Runs `callback` once, `delay` from now. Timers fire in deadline order (equal deadlines
    /// in the order they were set); the nearest one bounds how long the loop waits for I/O.
    pub fn call_later(&self, delay: Duration, callback: impl FnOnce(&IoLoop) + 'static) -> TimerId {
        let mut inner = self.inner.borrow_mut();
        let id = inner.next_timer;
        inner.next_timer += 1;
        inner.timers.push(Reverse((Instant::now() + delay, id)));
        inner.timer_callbacks.insert(id, Box::new(callback));
        TimerId(id)
    }
    // ANCHOR_END: call_later

    /// Cancels a timer that has not fired; `true` if it was still pending.
    pub fn cancel_timer(&self, timer: TimerId) -> bool {
        self.inner
            .borrow_mut()
            .timer_callbacks
            .remove(&timer.0)
            .is_some()
    }

    /// Makes `run` return once the callbacks of the current round have run (events already
    /// reported in this round are still dispatched).
    pub fn stop(&self) {
        self.inner.borrow_mut().running = false;
    }

    /// How many handlers are registered.
    pub fn handler_count(&self) -> usize {
        self.inner
            .borrow()
            .handlers
            .iter()
            .filter(|(_, slot)| !slot.removed)
            .count()
    }

    // ANCHOR: run
    /// Runs the loop until `stop` is called, or until nothing is left that could ever run a
    /// callback (no handlers, no timers, no `call_soon` callbacks).
    pub fn run(&self) -> io::Result<()> {
        self.inner.borrow_mut().running = true;
        let mut events = Events::with_capacity(1024);
        while self.inner.borrow().running {
            self.run_soon_callbacks();
            self.run_due_timers();
            {
                let mut inner = self.inner.borrow_mut();
                if !inner.running {
                    return Ok(());
                }
                let idle = inner.handlers.is_empty() && inner.timer_callbacks.is_empty();
                if idle && inner.soon.is_empty() {
                    // Nothing could ever wake us: waiting would be waiting forever.
                    return Ok(());
                }
                let timeout = if inner.soon.is_empty() {
                    inner.next_deadline()
                } else {
                    Some(Duration::ZERO)
                };
                // The one blocking call: sleep until a source is ready or the next timer is due.
                match inner.poll.poll(&mut events, timeout) {
                    Ok(()) => {}
                    // A signal interrupted the wait: simply go round again.
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            for event in &events {
                let ready = Ready {
                    token: event.token(),
                    readable: event.is_readable(),
                    writable: event.is_writable(),
                    closed: event.is_read_closed() || event.is_write_closed(),
                    error: event.is_error(),
                };
                self.dispatch(ready);
            }
        }
        Ok(())
    }
    // ANCHOR_END: run

    /// Runs the handler of `ready.token`, if it is still registered. The handler is taken out of
    /// its slot for the call, so that the callback can use the loop (add, remove, update
    /// handlers) without the loop's state being borrowed.
    fn dispatch(&self, ready: Ready) {
        let handler = {
            let mut inner = self.inner.borrow_mut();
            match Self::slot(&mut inner.handlers, ready.token) {
                Some(slot) => slot.handler.take(),
                // Removed earlier in this round (or a stale token): never call it.
                None => None,
            }
        };
        let Some(mut handler) = handler else { return };
        handler.call(self, ready);
        // Put it back, or drop it if the callback removed it.
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        let (key, generation) = parts(ready.token);
        let Some(slot) = inner
            .handlers
            .get_mut(key)
            .filter(|slot| slot.generation == generation)
        else {
            return;
        };
        if slot.removed {
            inner.handlers.remove(key);
            let _ = inner.poll.registry().deregister(handler.source());
            return;
        }
        if let Some(interest) = slot.new_interest.take() {
            let _ = inner
                .poll
                .registry()
                .reregister(handler.source(), ready.token, interest);
        }
        slot.handler = Some(handler);
    }

    /// Runs the `call_soon` callbacks that are queued now (not those they queue themselves,
    /// which wait for the next turn, so the loop keeps polling for I/O).
    fn run_soon_callbacks(&self) {
        let queued = std::mem::take(&mut self.inner.borrow_mut().soon);
        for callback in queued {
            callback(self);
        }
    }

    /// Runs every timer whose deadline has passed, earliest first.
    fn run_due_timers(&self) {
        let now = Instant::now();
        loop {
            let callback = {
                let mut inner = self.inner.borrow_mut();
                match inner.timers.peek() {
                    Some(Reverse((deadline, id))) if *deadline <= now => {
                        let id = *id;
                        inner.timers.pop();
                        // A cancelled timer has no callback left: skip it.
                        inner.timer_callbacks.remove(&id)
                    }
                    _ => return,
                }
            };
            if let Some(callback) = callback {
                callback(self);
            }
        }
    }
}

impl Inner {
    /// How long until the earliest pending timer (zero if one is due; `None` if there is none),
    /// dropping cancelled timers from the top of the heap on the way.
    fn next_deadline(&mut self) -> Option<Duration> {
        while let Some(Reverse((deadline, id))) = self.timers.peek() {
            if self.timer_callbacks.contains_key(id) {
                return Some(deadline.saturating_duration_since(Instant::now()));
            }
            self.timers.pop();
        }
        None
    }
}
