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

/// What to do with a result, once it comes.
type Then<T, E> = Box<dyn FnOnce(Result<T, E>)>;

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
pub struct Trigger<T, E> {
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

    /// Says what to do with the result: run `then` on it, now if it is already there.
    fn on_result(self, then: impl FnOnce(Result<T, E>) + 'static) {
        let fired = {
            let mut state = self.state.borrow_mut();
            match std::mem::replace(&mut *state, State::Done) {
                State::Waiting(_) => {
                    *state = State::Waiting(Some(Box::new(then)));
                    return;
                }
                State::Fired(result) => result,
                State::Done => return,
            }
        };
        // No borrow is held here: `then` may do anything.
        then(fired);
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
        self.on_result(move |result| match result {
            Ok(value) => trigger.forward(callback(value).into()),
            Err(error) => trigger.fire(Err(error)),
        });
        next
    }

    /// Adds a callback for failure: it gets the error and returns the next result, recovering
    /// (`Ok`) or passing an error on. A success passes it by.
    pub fn add_errback<N>(self, errback: impl FnOnce(E) -> N + 'static) -> Deferred<T, E>
    where
        N: Into<Next<T, E>>,
    {
        let (next, trigger) = Deferred::new();
        self.on_result(move |result| match result {
            Ok(value) => trigger.fire(Ok(value)),
            Err(error) => trigger.forward(errback(error).into()),
        });
        next
    }
    // ANCHOR_END: add_callback

    /// Adds a last callback that sees the result whatever it is, and ends the chain.
    pub fn add_both(self, last: impl FnOnce(Result<T, E>) + 'static) {
        self.on_result(last);
    }
}

impl<T: 'static, E: 'static> Trigger<T, E> {
    /// Fires the deferred with `result`, running its callbacks now if it has any.
    pub fn fire(self, result: Result<T, E>) {
        let waiting = {
            let mut state = self.state.borrow_mut();
            match std::mem::replace(&mut *state, State::Done) {
                State::Waiting(Some(then)) => then,
                State::Waiting(None) => {
                    *state = State::Fired(result);
                    return;
                }
                // A trigger fires once; it is consumed, so this cannot happen.
                State::Fired(_) | State::Done => return,
            }
        };
        waiting(result);
    }

    /// Fires with a callback's [`Next`]: at once, or when the deferred it names fires.
    fn forward(self, next: Next<T, E>) {
        match next {
            Next::Now(result) => self.fire(result),
            Next::Later(deferred) => deferred.on_result(move |result| self.fire(result)),
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
}
