//! The synchronisation pieces: an event wakes all its waiters; the mutex serves one at a time,
//! in order, across awaits; a semaphore waiter that gives up leaves the queue.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures::future::join_all;
use step05_futures::time::sleep;
use step05_futures::{block_on, spawn};
use step06_async_await::sync::{Event, Mutex, Semaphore};
use step06_async_await::timeout::timeout;

/// Ten waiters, one `set`: all ten wake; a wait after the set returns at once.
#[test]
fn an_event_wakes_all_its_waiters() {
    let woken = block_on(async {
        let event = Rc::new(Event::new());
        let waiters: Vec<_> = (0..10)
            .map(|i| {
                let event = Rc::clone(&event);
                spawn(async move {
                    event.wait().await;
                    i
                })
            })
            .collect();
        sleep(Duration::from_millis(20)).await;
        event.set();
        let woken = join_all(waiters).await;
        event.wait().await; // already set: ready at once
        woken
    });
    assert_eq!(woken, (0..10).collect::<Vec<_>>());
}

/// Five tasks each hold the lock across a sleep: they never overlap, and they get it in the
/// order they asked.
#[test]
fn the_mutex_serves_one_at_a_time_in_order() {
    let log = block_on(async {
        let mutex = Rc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = (0..5)
            .map(|i| {
                let mutex = Rc::clone(&mutex);
                spawn(async move {
                    let mut log = mutex.lock().await;
                    log.push(format!("{i} in"));
                    sleep(Duration::from_millis(5)).await; // held across an await
                    log.push(format!("{i} out"));
                })
            })
            .collect();
        join_all(tasks).await;
        Rc::try_unwrap(mutex)
            .expect("all tasks done")
            .lock()
            .await
            .clone()
    });
    let expected: Vec<String> = (0..5)
        .flat_map(|i| [format!("{i} in"), format!("{i} out")])
        .collect();
    assert_eq!(log, expected);
}

/// A waiter that gives up (its future dropped by a timeout) leaves the queue: the permit goes
/// to the next one, and nothing hangs.
#[test]
fn a_semaphore_waiter_that_gives_up_leaves_the_queue() {
    let order = block_on(async {
        let semaphore = Rc::new(Semaphore::new(1));
        let order = Rc::new(RefCell::new(Vec::new()));
        let holder = {
            let (semaphore, order) = (Rc::clone(&semaphore), Rc::clone(&order));
            spawn(async move {
                let _permit = semaphore.acquire().await;
                sleep(Duration::from_millis(30)).await;
                order.borrow_mut().push("holder done");
            })
        };
        sleep(Duration::from_millis(1)).await;
        let impatient = {
            let (semaphore, order) = (Rc::clone(&semaphore), Rc::clone(&order));
            spawn(async move {
                let got = timeout(Duration::from_millis(5), semaphore.acquire())
                    .await
                    .is_ok();
                order.borrow_mut().push(if got {
                    "impatient got it"
                } else {
                    "impatient gave up"
                });
            })
        };
        let patient = {
            let (semaphore, order) = (Rc::clone(&semaphore), Rc::clone(&order));
            spawn(async move {
                let _permit = semaphore.acquire().await;
                order.borrow_mut().push("patient got it");
            })
        };
        join_all([holder, impatient, patient]).await;
        assert_eq!(semaphore.available(), 1);
        order.take()
    });
    assert_eq!(
        order,
        ["impatient gave up", "holder done", "patient got it"]
    );
}

/// The subtle path of the semaphore, played by hand: the first waiter is woken (a permit came
/// free) but dropped before it is polled again. Its turn must pass to the next waiter, who is
/// woken and gets the permit.
#[test]
fn a_woken_waiter_dropped_before_its_turn_hands_it_on() {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    /// Counts its wakes.
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (a_wakes, b_wakes) = (
        Arc::new(Count(AtomicUsize::new(0))),
        Arc::new(Count(AtomicUsize::new(0))),
    );
    let (a_waker, b_waker) = (
        Waker::from(Arc::clone(&a_wakes)),
        Waker::from(Arc::clone(&b_wakes)),
    );

    let semaphore = Semaphore::new(1);
    let mut holder = pin!(semaphore.acquire());
    let Poll::Ready(permit) = holder
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    else {
        panic!("a free permit is taken at once")
    };
    let mut a = Box::pin(semaphore.acquire());
    let mut b = pin!(semaphore.acquire());
    assert!(
        a.as_mut()
            .poll(&mut Context::from_waker(&a_waker))
            .is_pending()
    );
    assert!(
        b.as_mut()
            .poll(&mut Context::from_waker(&b_waker))
            .is_pending()
    );
    drop(permit);
    assert_eq!(
        a_wakes.0.load(Ordering::SeqCst),
        1,
        "the first in line is woken"
    );
    assert_eq!(
        b_wakes.0.load(Ordering::SeqCst),
        0,
        "the second is not, yet"
    );
    drop(a);
    assert_eq!(
        b_wakes.0.load(Ordering::SeqCst),
        1,
        "the dropped waiter's turn passes on"
    );
    assert!(
        b.as_mut()
            .poll(&mut Context::from_waker(&b_waker))
            .is_ready()
    );
}

/// The queue hands items out in order, to the workers that wait for them in order; a `pop`
/// that waits does not stop a `push` (it never waits).
#[test]
fn the_queue_hands_items_out_in_order_to_waiting_workers() {
    use step06_async_await::sync::Queue;
    let log = block_on(async {
        let queue = Rc::new(Queue::new());
        let log = Rc::new(RefCell::new(Vec::new()));
        let workers: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let (queue, log) = (Rc::clone(&queue), Rc::clone(&log));
                spawn(async move {
                    for _ in 0..2 {
                        let item: u32 = queue.pop().await;
                        log.borrow_mut().push(format!("{name} {item}"));
                    }
                })
            })
            .collect();
        // Both workers wait before anything is pushed.
        sleep(Duration::from_millis(5)).await;
        for item in 1..=4 {
            queue.push(item);
        }
        join_all(workers).await;
        assert!(queue.is_empty());
        assert_eq!(queue.most(), 4);
        log.take()
    });
    // Worker a waited first, so it gets the first item; each takes the next as it comes back.
    assert_eq!(log, ["a 1", "b 2", "a 3", "b 4"]);
}

/// `try_acquire` is first come, first served too: it takes no permit while a task waits for
/// one; an owned permit gives its permit back when dropped, wherever it went.
#[test]
fn try_acquire_does_not_jump_the_queue_and_owned_permits_come_back() {
    block_on(async {
        let semaphore = Rc::new(Semaphore::new(1));
        let held = Rc::clone(&semaphore).acquire_owned().await;
        assert!(semaphore.try_acquire().is_none(), "none free");
        let waiter = {
            let semaphore = Rc::clone(&semaphore);
            spawn(async move { drop(semaphore.acquire().await) })
        };
        sleep(Duration::from_millis(1)).await;
        // Free it: the permit is the waiter's now, though the waiter has not run yet.
        drop(held);
        assert!(semaphore.try_acquire().is_none(), "a task waits for it");
        waiter.await;
        let owned = semaphore.try_acquire_owned().expect("free, nobody waiting");
        assert_eq!(semaphore.available(), 0);
        // Into a task of its own, and back when that task ends.
        spawn(async move { drop(owned) }).await;
        assert_eq!(semaphore.available(), 1);
    });
}
