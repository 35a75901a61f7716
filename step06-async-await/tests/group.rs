//! The task group: `join` waits for every child; when a child fails, `join` cancels its
//! siblings and returns the error; dropping the group cancels the children still running;
//! `join_within` cancels those still running at the deadline and counts both. Each count of
//! cancelled children is read inside the runtime, right after the cancel: once `block_on`
//! returns, the runtime drops every task left anyway, and the count would prove nothing.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use step05_futures::block_on;
use step05_futures::time::sleep;
use step06_async_await::group::{Ended, TaskGroup};

/// Counts, in `dropped`, a child dropped before it finished.
struct Guard {
    dropped: Rc<Cell<usize>>,
    finished: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.finished {
            self.dropped.set(self.dropped.get() + 1);
        }
    }
}

/// A child that sleeps `ms`, then returns `result`; if dropped first, `dropped` counts it.
async fn child(
    ms: u64,
    result: Result<(), &'static str>,
    dropped: Rc<Cell<usize>>,
) -> Result<(), &'static str> {
    let mut guard = Guard {
        dropped,
        finished: false,
    };
    sleep(Duration::from_millis(ms)).await;
    guard.finished = true;
    result
}

/// Three children of 10, 20 and 30 ms: `join` returns when the last is done, with 3.
#[test]
fn join_waits_for_every_child() {
    let dropped = Rc::new(Cell::new(0));
    let (joined, took) = block_on(async {
        let group = TaskGroup::new();
        for ms in [30, 10, 20] {
            group.spawn(child(ms, Ok(()), Rc::clone(&dropped)));
        }
        let started = Instant::now();
        (group.join().await, started.elapsed())
    });
    assert_eq!(joined, Ok(3));
    assert!(took >= Duration::from_millis(30), "{took:?}");
    assert_eq!(dropped.get(), 0);
}

/// A child that fails at 10 ms: its two siblings (10 s each) are cancelled at once, and
/// `join` returns the error, long before the siblings would have finished.
#[test]
fn the_first_error_cancels_the_siblings() {
    let dropped = Rc::new(Cell::new(0));
    let (joined, took, cancelled) = block_on(async {
        let group = TaskGroup::new();
        group.spawn(child(10_000, Ok(()), Rc::clone(&dropped)));
        group.spawn(child(10, Err("the child failed"), Rc::clone(&dropped)));
        group.spawn(child(10_000, Ok(()), Rc::clone(&dropped)));
        let started = Instant::now();
        let joined = group.join().await;
        (joined, started.elapsed(), dropped.get())
    });
    assert_eq!(joined, Err("the child failed"));
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(cancelled, 2, "both siblings were cancelled by join");
}

/// Dropping the group (here, without ever joining it) cancels its children: none outlives it.
#[test]
fn no_child_outlives_its_group() {
    let dropped = Rc::new(Cell::new(0));
    block_on(async {
        let group = TaskGroup::<&str>::new();
        group.spawn(child(10_000, Ok(()), Rc::clone(&dropped)));
        group.spawn(child(10_000, Ok(()), Rc::clone(&dropped)));
        // Let them start, then end the group's scope.
        sleep(Duration::from_millis(10)).await;
        drop(group);
        assert_eq!(dropped.get(), 2, "the drop cancelled both, at once");
    });
}

/// `join_within(100 ms)`: two children that finish in 10 ms are counted as finished, two that
/// would take 10 s are cut at the deadline.
#[test]
fn join_within_cuts_the_slow_children_at_the_deadline() {
    let dropped = Rc::new(Cell::new(0));
    let (ended, took, cancelled) = block_on(async {
        let group = TaskGroup::new();
        for ms in [10, 10_000, 10, 10_000] {
            group.spawn(child(ms, Ok(()), Rc::clone(&dropped)));
        }
        let started = Instant::now();
        let ended = group.join_within(Duration::from_millis(100)).await;
        (ended, started.elapsed(), dropped.get())
    });
    assert_eq!(
        ended,
        Ok(Ended {
            finished: 2,
            cut: 2
        })
    );
    assert!(
        took >= Duration::from_millis(100) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(cancelled, 2);
}

/// A child that fails during the grace period ends it early: its sibling is cut (and counted
/// as cut by the group, though `join` did the cancelling), and the error comes back.
#[test]
fn an_error_during_the_grace_period_ends_it() {
    let dropped = Rc::new(Cell::new(0));
    let (ended, took, cancelled) = block_on(async {
        let group = TaskGroup::new();
        group.spawn(child(
            10,
            Err("failed in the grace period"),
            Rc::clone(&dropped),
        ));
        group.spawn(child(10_000, Ok(()), Rc::clone(&dropped)));
        let started = Instant::now();
        let ended = group.join_within(Duration::from_secs(5)).await;
        (ended, started.elapsed(), dropped.get())
    });
    assert_eq!(ended, Err("failed in the grace period"));
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert_eq!(cancelled, 1);
}

// The worked solutions of the exercises of "Servers that behave" that change code.

// ANCHOR: second_stop
/// Exercise 1: the grace period, cut short by a second stop (a second Ctrl-C): whichever
/// comes first, the deadline or `second`, what is left is cancelled, and counted.
async fn join_until_second_stop<E: 'static>(
    group: &TaskGroup<E>,
    grace: Duration,
    second: impl std::future::Future<Output = ()>,
) -> Result<Ended, E> {
    use futures::future::{Either, select};
    use std::pin::pin;
    let before = group.finished();
    match select(pin!(group.join_within(grace)), pin!(second)).await {
        // The grace period ended first (or a child failed): its answer is the answer.
        Either::Left((ended, _)) => ended,
        // The second stop: cut now. The `join_within` that lost is dropped, which is safe:
        // the children belong to the group, not to the wait.
        Either::Right(((), _)) => Ok(Ended {
            cut: group.cancel(),
            finished: group.finished() - before,
        }),
    }
}
// ANCHOR_END: second_stop

/// Exercise 1: a second stop at 50 ms, during a grace period of a minute, cuts the two slow
/// children at once (the quick one has finished); without it, the grace period would run.
#[test]
fn a_second_stop_cuts_the_grace_period_short() {
    let dropped = Rc::new(Cell::new(0));
    let (ended, took) = block_on(async {
        let group = TaskGroup::new();
        group.spawn(child(10, Ok(()), Rc::clone(&dropped)));
        for _ in 0..2 {
            group.spawn(child(10_000, Ok(()), Rc::clone(&dropped)));
        }
        let started = Instant::now();
        let second = sleep(Duration::from_millis(50));
        let ended = join_until_second_stop(&group, Duration::from_secs(60), second).await;
        assert_eq!(
            dropped.get(),
            2,
            "both slow children dropped, inside the runtime"
        );
        (ended, started.elapsed())
    });
    assert_eq!(
        ended,
        Ok(Ended {
            finished: 1,
            cut: 2
        })
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
}

/// Exercise 2: children that fail at 10 ms and at 20 ms, and one of 10 s. `join` returns the
/// first error, at about 10 ms; the second child never gets to fail (it is dropped at its
/// sleep), and the third is dropped too.
#[test]
fn the_first_error_wins_and_the_second_never_happens() {
    let dropped = Rc::new(Cell::new(0));
    let joined = block_on(async {
        let group = TaskGroup::new();
        group.spawn(child(10, Err("first"), Rc::clone(&dropped)));
        group.spawn(child(20, Err("second"), Rc::clone(&dropped)));
        group.spawn(child(10_000, Ok(()), Rc::clone(&dropped)));
        let joined = group.join().await;
        assert_eq!(
            dropped.get(),
            2,
            "the other two dropped before they finished"
        );
        joined
    });
    assert_eq!(joined, Err("first"));
}
