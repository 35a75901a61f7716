//! Twisted's `Deferred`: a result that is not there yet, and the callbacks to run on it.
//!
//! A [`Deferred`] is the promise of one result, `Ok(T)` or `Err(E)`. Whoever will produce the
//! result keeps its [`Trigger`] and fires it once; whoever wants the result adds callbacks to
//! the deferred. Callbacks form a chain: each `add_callback` takes the value and returns the
//! next one (or a new deferred, for a next step that takes time, whose result the chain then
//! waits for), and an error skips every callback until the next `add_errback`, which may
//! recover from it. A deferred that has already fired runs a new callback at once.
//!
//! Everything here is single-threaded: the state is behind `Rc<RefCell<_>>`, and no borrow is
//! held while a callback runs, so a callback may add to chains and fire triggers freely.
//!
//! A chain may be long (a loop that adds a callback per item adds thousands), so it is run in
//! a loop, not by each link calling the next: a link hands back the rest of the work as a
//! `Bounce` and the loop in [`Trigger::fire`] runs it, one stack frame deep whatever the
//! chain's length. (Twisted's `_runCallbacks` loops for the same reason.) An abandoned chain
//! is dropped one link at a time, for the same reason.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

/// What a callback hands to the rest of the chain: a result now, or a deferred one.
pub enum Next<T, E> {
    /// The result, now.
    Now(Result<T, E>),
    /// A result to wait for: the chain continues when this deferred fires.
    Later(Deferred<T, E>),
}

impl<T, E> From<Result<T, E>> for Next<T, E> {
    fn from(result: Result<T, E>) -> Next<T, E> {
        Next::Now(result)
    }
}

impl<T, E> From<Deferred<T, E>> for Next<T, E> {
    fn from(deferred: Deferred<T, E>) -> Next<T, E> {
        Next::Later(deferred)
    }
}

/// What is left to do after one step of a chain: nothing (the chain has ended, or waits for a
/// deferred), or the next step. The loop in [`run`] takes the steps one after another, so a
/// chain of any length runs at one stack depth.
struct Bounce(Option<Box<dyn FnOnce() -> Bounce>>);

impl Bounce {
    /// Nothing left to do now.
    const DONE: Bounce = Bounce(None);

    /// `step` is left to do.
    fn then(step: impl FnOnce() -> Bounce + 'static) -> Bounce {
        Bounce(Some(Box::new(step)))
    }
}

/// Runs a chain's steps until none is left.
fn run(mut bounce: Bounce) {
    while let Some(step) = bounce.0 {
        bounce = step();
    }
}

/// What to do with a result, once it comes: the next step of the chain.
type Then<T, E> = Box<dyn FnOnce(Result<T, E>) -> Bounce>;

/// The state of a deferred.
enum State<T, E> {
    /// Not fired; what to do with the result when it comes, if anyone has said yet.
    Waiting(Option<Then<T, E>>),
    /// Fired before anyone asked: the result is kept for the first callback.
    Fired(Result<T, E>),
    /// The result has been handed on.
    Done,
}

/// A result that is not there yet. See the module documentation.
pub struct Deferred<T, E> {
    state: Rc<RefCell<State<T, E>>>,
}

/// The producer's end of a [`Deferred`]: fire it once with the result. Dropping a trigger
/// without firing it leaves the deferred waiting forever, which is how an operation that was
/// cancelled (its handler removed) quietly ends its chain.
pub struct Trigger<T: 'static, E: 'static> {
    state: Rc<RefCell<State<T, E>>>,
}

impl<T: 'static, E: 'static> Deferred<T, E> {
    /// A deferred that has not fired, and the trigger that fires it.
    pub fn new() -> (Deferred<T, E>, Trigger<T, E>) {
        let state = Rc::new(RefCell::new(State::Waiting(None)));
        (
            Deferred {
                state: Rc::clone(&state),
            },
            Trigger { state },
        )
    }

    /// A deferred that has already fired with `result`.
    pub fn fired(result: Result<T, E>) -> Deferred<T, E> {
        Deferred {
            state: Rc::new(RefCell::new(State::Fired(result))),
        }
    }

    /// Says what to do with the result: `then` gets it when it comes; if it is here already,
    /// running `then` on it is the step left to do.
    fn on_result(self, then: impl FnOnce(Result<T, E>) -> Bounce + 'static) -> Bounce {
        let mut state = self.state.borrow_mut();
        match std::mem::replace(&mut *state, State::Done) {
            State::Waiting(_) => {
                *state = State::Waiting(Some(Box::new(then)));
                Bounce::DONE
            }
            // Run by the loop, when no borrow is held any more: `then` may do anything.
            State::Fired(result) => Bounce::then(move || then(result)),
            State::Done => Bounce::DONE,
        }
    }

    // ANCHOR: add_callback
    /// Adds a callback for success: it gets the value and returns the next result (`Ok`, `Err`,
    /// or a deferred to wait for). An error passes it by, to the next errback.
    pub fn add_callback<U: 'static, N>(
        self,
        callback: impl FnOnce(T) -> N + 'static,
    ) -> Deferred<U, E>
    where
        N: Into<Next<U, E>>,
    {
        let (next, trigger) = Deferred::new();
        run(self.on_result(move |result| match result {
            Ok(value) => trigger.forward(callback(value).into()),
            Err(error) => trigger.fire_later(Err(error)),
        }));
        next
    }

    /// Adds a callback for failure: it gets the error and returns the next result, recovering
    /// (`Ok`) or passing an error on. A success passes it by.
    pub fn add_errback<N>(self, errback: impl FnOnce(E) -> N + 'static) -> Deferred<T, E>
    where
        N: Into<Next<T, E>>,
    {
        let (next, trigger) = Deferred::new();
        run(self.on_result(move |result| match result {
            Ok(value) => trigger.fire_later(Ok(value)),
            Err(error) => trigger.forward(errback(error).into()),
        }));
        next
    }
    // ANCHOR_END: add_callback

    /// Adds a last callback that sees the result whatever it is, and ends the chain.
    pub fn add_both(self, last: impl FnOnce(Result<T, E>) + 'static) {
        run(self.on_result(move |result| {
            last(result);
            Bounce::DONE
        }));
    }
}

impl<T: 'static, E: 'static> Trigger<T, E> {
    /// Fires the deferred with `result`, running its callbacks now if it has any.
    pub fn fire(self, result: Result<T, E>) {
        run(self.fire_later(result));
    }

    /// Fires the deferred with `result`, leaving its callbacks (if it has any) as the step
    /// left to do, for the loop that runs the chain.
    fn fire_later(self, result: Result<T, E>) -> Bounce {
        let mut state = self.state.borrow_mut();
        match std::mem::replace(&mut *state, State::Done) {
            State::Waiting(Some(then)) => Bounce::then(move || then(result)),
            State::Waiting(None) => {
                *state = State::Fired(result);
                Bounce::DONE
            }
            // A trigger fires once; it is consumed, so this cannot happen.
            State::Fired(_) | State::Done => Bounce::DONE,
        }
    }

    /// Fires with a callback's [`Next`]: at once, or when the deferred it names fires.
    fn forward(self, next: Next<T, E>) -> Bounce {
        match next {
            Next::Now(result) => self.fire_later(result),
            Next::Later(deferred) => deferred.on_result(move |result| self.fire_later(result)),
        }
    }

    /// Fires with a value.
    pub fn succeed(self, value: T) {
        self.fire(Ok(value));
    }

    /// Fires with an error.
    pub fn fail(self, error: E) {
        self.fire(Err(error));
    }
}

impl<T: 'static, E: 'static> Drop for Trigger<T, E> {
    /// A trigger dropped unfired abandons its chain: the callbacks waiting for it can never
    /// run. Each callback holds the trigger of the next link, so dropping them the ordinary way
    /// would go one stack frame deeper per link; they are dropped one at a time instead.
    fn drop(&mut self) {
        let abandoned = match self.state.try_borrow_mut() {
            Ok(mut state) => match &mut *state {
                State::Waiting(then) => then.take(),
                State::Fired(_) | State::Done => None,
            },
            Err(_) => None,
        };
        if let Some(then) = abandoned {
            drop_one_at_a_time(Box::new(then));
        }
    }
}

thread_local! {
    /// Links of abandoned chains waiting to be dropped, while a [`drop_one_at_a_time`] loop
    /// runs on this thread (`None` when none does).
    static ABANDONED: RefCell<Option<Vec<Box<dyn Any>>>> = const { RefCell::new(None) };
}

/// Drops `link` and whatever links its drop abandons in turn, in a loop: the first call on the
/// thread runs the loop; a drop inside it only adds its link to the loop's list.
fn drop_one_at_a_time(link: Box<dyn Any>) {
    let link = ABANDONED.with(|abandoned| match &mut *abandoned.borrow_mut() {
        Some(list) => {
            list.push(link);
            None
        }
        slot @ None => {
            *slot = Some(Vec::new());
            Some(link)
        }
    });
    let Some(mut link) = link else {
        return; // a loop further up the stack drops it
    };
    loop {
        drop(link);
        let next = ABANDONED.with(|abandoned| abandoned.borrow_mut().as_mut().and_then(Vec::pop));
        match next {
            Some(next) => link = next,
            None => break,
        }
    }
    ABANDONED.with(|abandoned| *abandoned.borrow_mut() = None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Values flow down the chain, each callback's return feeding the next.
    #[test]
    fn callbacks_chain() {
        let (deferred, trigger) = Deferred::<i32, String>::new();
        let seen = Rc::new(Cell::new(0));
        let seen2 = Rc::clone(&seen);
        deferred
            .add_callback(|x| Ok::<_, String>(x + 1))
            .add_callback(|x| Ok::<_, String>(x * 10))
            .add_both(move |result| seen2.set(result.unwrap()));
        assert_eq!(seen.get(), 0, "nothing runs before the trigger fires");
        trigger.succeed(4);
        assert_eq!(seen.get(), 50);
    }

    /// An error skips callbacks until an errback, which can recover.
    #[test]
    fn errors_skip_to_the_errback() {
        let (deferred, trigger) = Deferred::<i32, String>::new();
        let log = Rc::new(RefCell::new(Vec::new()));
        let (a, b, c) = (Rc::clone(&log), Rc::clone(&log), Rc::clone(&log));
        deferred
            .add_callback(move |x| {
                a.borrow_mut().push("callback 1");
                Ok::<_, String>(x)
            })
            .add_errback(move |e| {
                b.borrow_mut().push("errback");
                Ok::<_, String>(e.len() as i32)
            })
            .add_both(move |result| {
                c.borrow_mut()
                    .push(if result == Ok(4) { "recovered" } else { "lost" })
            });
        trigger.fail("boom".to_string());
        assert_eq!(*log.borrow(), ["errback", "recovered"]);
    }

    /// A callback may return a deferred: the chain waits for it. A fired deferred runs new
    /// callbacks at once.
    #[test]
    fn chains_wait_for_returned_deferreds() {
        let (first, first_trigger) = Deferred::<i32, ()>::new();
        let (second, second_trigger) = Deferred::<i32, ()>::new();
        let out = Rc::new(Cell::new(0));
        let out2 = Rc::clone(&out);
        first
            .add_callback(move |_| second)
            .add_both(move |r| out2.set(r.unwrap()));
        first_trigger.succeed(1);
        assert_eq!(out.get(), 0, "waiting for the second deferred");
        second_trigger.succeed(7);
        assert_eq!(out.get(), 7);
        let out3 = Rc::clone(&out);
        Deferred::<i32, ()>::fired(Ok(9)).add_both(move |r| out3.set(r.unwrap()));
        assert_eq!(out.get(), 9);
    }

    /// How many links the long-chain tests use: enough to overflow the 2 MiB stack of a test
    /// thread many times over if each link ran (or was dropped) one frame deeper than the last
    /// (before the fix, about 20,000 did in a release build, and far fewer in a debug one).
    const LINKS: u64 = 200_000;

    /// A chain of `LINKS` callbacks, each adding one.
    fn long_chain(first: Deferred<u64, ()>) -> Deferred<u64, ()> {
        (0..LINKS).fold(first, |d, _| d.add_callback(|x| Ok::<_, ()>(x + 1)))
    }

    /// A long chain fired after it was built runs in a loop, not one frame per link.
    #[test]
    fn a_long_chain_fired_late_runs_at_one_depth() {
        let (first, trigger) = Deferred::<u64, ()>::new();
        let out = Rc::new(Cell::new(0));
        let seen = Rc::clone(&out);
        long_chain(first).add_both(move |r| seen.set(r.unwrap()));
        trigger.succeed(0);
        assert_eq!(out.get(), LINKS);
    }

    /// The same, where every link waits for a deferred of its own, fired one after another
    /// from the outside; and a chain of callbacks on a deferred that has already fired.
    #[test]
    fn long_chains_through_returned_deferreds_and_fired_ones() {
        let mut triggers = Vec::new();
        let mut d = Deferred::<u64, ()>::fired(Ok(0));
        for _ in 0..LINKS {
            let (inner, trigger) = Deferred::<u64, ()>::new();
            triggers.push(trigger);
            d = d.add_callback(move |x| inner.add_callback(move |y| Ok::<_, ()>(x + y)));
        }
        let out = Rc::new(Cell::new(0));
        let seen = Rc::clone(&out);
        d.add_both(move |r| seen.set(r.unwrap()));
        // Fired in reverse order: every link but the first waits until the first is fired.
        for trigger in triggers.into_iter().rev() {
            trigger.succeed(1);
        }
        assert_eq!(out.get(), LINKS);
        let fired = long_chain(Deferred::fired(Ok(5)));
        let seen = Rc::clone(&out);
        fired.add_both(move |r| seen.set(r.unwrap()));
        assert_eq!(out.get(), LINKS + 5);
    }

    /// A long chain whose trigger is dropped unfired is dropped link by link, in a loop.
    #[test]
    fn a_long_abandoned_chain_drops_at_one_depth() {
        let (first, trigger) = Deferred::<u64, ()>::new();
        let ran = Rc::new(Cell::new(false));
        let seen = Rc::clone(&ran);
        long_chain(first).add_both(move |_| seen.set(true));
        drop(trigger);
        assert!(!ran.get(), "an abandoned chain never runs");
        assert_eq!(Rc::strong_count(&ran), 1, "every link was dropped");
    }
}
