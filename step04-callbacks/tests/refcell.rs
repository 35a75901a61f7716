//! What the compiler cannot catch: a `RefCell` borrowed across a call that runs a callback which
//! borrows it again panics at run time. (The chapter explains why callbacks make this easy to
//! do by accident, and how the loop and the deferreds avoid it in their own code.)

use std::cell::RefCell;
use std::rc::Rc;

use step04_callbacks::deferred::Deferred;

// ANCHOR: double_borrow
/// Holding `log` mutably borrowed while firing a trigger whose callback also borrows `log`:
/// the callback runs right there, inside the borrow, and the second borrow panics.
#[test]
#[should_panic(expected = "already borrowed")]
fn a_borrow_held_while_a_callback_runs_panics() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let (deferred, trigger) = Deferred::<u32, ()>::new();
    let in_callback = Rc::clone(&log);
    deferred.add_both(move |_| in_callback.borrow_mut().push("callback"));
    let mut entries = log.borrow_mut();
    entries.push("before firing");
    trigger.succeed(1); // runs the callback now: borrow_mut while `entries` is alive
    entries.push("never reached");
}
// ANCHOR_END: double_borrow

/// The same, with the borrow ended before firing: fine.
#[test]
fn a_borrow_ended_in_time_is_fine() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let (deferred, trigger) = Deferred::<u32, ()>::new();
    let in_callback = Rc::clone(&log);
    deferred.add_both(move |_| in_callback.borrow_mut().push("callback"));
    log.borrow_mut().push("before firing");
    trigger.succeed(1);
    assert_eq!(*log.borrow(), ["before firing", "callback"]);
}
