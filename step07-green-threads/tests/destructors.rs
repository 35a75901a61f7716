//! Blocking calls in destructors: where a green thread may not switch to the hub, every
//! blocking call returns (at once, or with an error) instead of panicking.
//!
//! Two moments matter. While `run` unwinds the green threads left at its end, none of them
//! will ever be resumed; a panic there, inside an unwind, would abort the whole process. And
//! while a panic unwinds a green thread, a switch would let the others run while std counts
//! the OS thread as panicking (one count per OS thread), so that their `thread::panicking()`
//! says `true` and the `Mutex`es they unlock are poisoned. These tests fail (the first by
//! aborting the test process) if a blocking call parks or panics at either moment.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use step07_green_threads::hub::{self, CannotPark};
use step07_green_threads::sync::{Event, Pool};
use step07_green_threads::{run, sleep, spawn, yield_now};

/// What each blocking call of a destructor returned, and how long the whole took.
type Log = Rc<RefCell<Vec<String>>>;

/// In its destructor, makes every kind of blocking call and writes down what each returned.
struct BlocksOnDrop {
    log: Log,
    /// An event nobody will set.
    never: Event,
    /// The green thread this destructor runs on: it has not finished (it is being unwound).
    itself: Rc<RefCell<Option<hub::JoinHandle<()>>>>,
    /// A pool of one, whose one place is taken by that same green thread.
    pool: Pool,
}

impl Drop for BlocksOnDrop {
    fn drop(&mut self) {
        let began = Instant::now();
        sleep(Duration::from_secs(3600));
        yield_now();
        let waited = self.never.wait();
        let timed = self.never.wait_timeout(Duration::from_secs(3600));
        let joined = self.itself.take().map(|h| h.join());
        let refused = match joined {
            Some(Err(payload)) => payload.downcast_ref::<CannotPark>().copied(),
            _ => None,
        };
        let spawned = self.pool.try_spawn(|| ());
        let spawn_refused = spawned
            .err()
            .and_then(|e| e.into_inner())
            .and_then(|e| e.downcast::<CannotPark>().ok())
            .map(|e| *e);
        let pool_joined = self.pool.join();
        let future = hub::wait_future(std::future::pending::<()>()).err();
        let mut log = self.log.borrow_mut();
        log.push(format!("event wait: {waited}, wait_timeout: {timed}"));
        log.push(format!("join refused: {refused:?}"));
        log.push(format!("pool spawn refused: {spawn_refused:?}"));
        log.push(format!("pool join: {pool_joined}"));
        log.push(format!("wait_future refused: {future:?}"));
        // An hour of sleep and two hour-long waits, all returned at once.
        log.push(format!(
            "quick: {}",
            began.elapsed() < Duration::from_secs(60)
        ));
    }
}

/// A green thread left parked when `run` returns is unwound; the blocking calls in its
/// destructors return at once with `CannotPark::Finishing`, and `run` returns normally
/// (before the fix: "panic in a destructor during cleanup", and the process aborted).
#[test]
fn blocking_calls_while_run_unwinds_its_leftovers_return_at_once() {
    let log: Log = Rc::default();
    let seen = Rc::clone(&log);
    let value = run(move || {
        let never = Event::new();
        let pool = Pool::new(1);
        let itself = Rc::new(RefCell::new(None));
        let guard = BlocksOnDrop {
            log: seen,
            never: never.clone(),
            itself: Rc::clone(&itself),
            pool: pool.clone(),
        };
        let handle = pool.spawn(move || {
            let _guard = guard;
            never.wait();
        });
        *itself.borrow_mut() = Some(handle);
        yield_now(); // it starts, and parks in `wait`
        "main returned"
    });
    assert_eq!(value, "main returned");
    assert_eq!(
        *log.borrow(),
        [
            "event wait: false, wait_timeout: false",
            "join refused: Some(Finishing)",
            "pool spawn refused: Some(Finishing)",
            "pool join: false",
            "wait_future refused: Some(Finishing)",
            "quick: true",
        ]
    );
}

/// Sleeps in its destructor, as a graceful-close or join-on-drop guard would.
struct SleepsOnDrop(Rc<RefCell<Option<Duration>>>);

impl Drop for SleepsOnDrop {
    fn drop(&mut self) {
        let began = Instant::now();
        sleep(Duration::from_millis(200));
        *self.0.borrow_mut() = Some(began.elapsed());
    }
}

/// A green thread whose destructor blocks while its panic unwinds does not switch: the other
/// green thread never runs "panicking", and the `Mutex` it held across the panic is not
/// poisoned (before the fix: `panicking() == true` in B, and the mutex poisoned). The sleep in
/// the destructor returns at once.
#[test]
fn a_panicking_green_thread_does_not_switch_in_its_destructors() {
    let slept = Rc::new(RefCell::new(None));
    let slept_in_drop = Rc::clone(&slept);
    let (b_saw_panicking, poisoned, a_panicked) = run(move || {
        let a = spawn(move || {
            let _guard = SleepsOnDrop(slept_in_drop);
            sleep(Duration::from_millis(2));
            panic!("A fails on purpose");
        });
        let mutex = Arc::new(Mutex::new(0));
        let held = Arc::clone(&mutex);
        let b = spawn(move || {
            let mut guard = held.lock().unwrap(); // taken before A panics
            sleep(Duration::from_millis(20)); // A panics meanwhile
            let saw = std::thread::panicking();
            *guard += 1;
            drop(guard); // B itself never panics
            saw
        });
        let saw = b.join().unwrap();
        let a_panicked = a.join().is_err();
        (saw, mutex.is_poisoned(), a_panicked)
    });
    assert!(a_panicked);
    assert!(!b_saw_panicking, "B ran while A's panic was unwinding");
    assert!(
        !poisoned,
        "a Mutex B locked and released normally is poisoned"
    );
    let slept = slept.borrow().expect("A's destructor ran");
    assert!(
        slept < Duration::from_millis(200),
        "the sleep in the destructor switched away for {slept:?}"
    );
}

/// What a blocking call says while a panic unwinds: `CannotPark::Unwinding`, and a socket call
/// fails with it as the error's inner error.
#[test]
fn a_blocking_call_during_a_panic_says_why_it_did_not_wait() {
    struct JoinsOnDrop(Option<hub::JoinHandle<()>>, Rc<RefCell<Option<CannotPark>>>);
    impl Drop for JoinsOnDrop {
        fn drop(&mut self) {
            if let Some(Err(payload)) = self.0.take().map(|h| h.join()) {
                *self.1.borrow_mut() = payload.downcast_ref::<CannotPark>().copied();
            }
        }
    }
    let why = Rc::new(RefCell::new(None));
    let seen = Rc::clone(&why);
    run(move || {
        let child = spawn(|| sleep(Duration::from_millis(50)));
        let a = spawn(move || {
            let _joins = JoinsOnDrop(Some(child), seen);
            panic!("on purpose");
        });
        assert!(a.join().is_err());
    });
    assert_eq!(*why.borrow(), Some(CannotPark::Unwinding));
}
