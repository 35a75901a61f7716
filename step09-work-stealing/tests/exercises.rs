//! Chapter 9's exercises, solved: each solution the book shows, with the test that checks it.
//! (Exercise 2's solution, the load-then-store state machine, is in `tests/loom.rs`.)

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::future::join_all;
use step09_work_stealing::{Runtime, spawn};
use testbed::faults::within;
use testbed::lock;

// ANCHOR: oneshot
/// Exercise 3: a channel for one value, between tasks on any threads.
struct Slot<T> {
    /// The value, once sent (until received).
    value: Option<T>,
    /// Set when the sender is gone, sent or not.
    closed: bool,
    /// The receiver's waker, while it waits.
    waker: Option<Waker>,
}

/// Sends the one value.
pub struct Sender<T>(Arc<Mutex<Slot<T>>>);

/// Receives it: a future of `Some(value)`, or `None` if the sender was dropped without
/// sending.
pub struct Receiver<T>(Arc<Mutex<Slot<T>>>);

/// A new channel.
pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        closed: false,
        waker: None,
    }));
    (Sender(Arc::clone(&slot)), Receiver(slot))
}

impl<T> Sender<T> {
    /// Sends `value` (the sender is used up; its drop then closes the channel).
    pub fn send(self, value: T) {
        lock(&self.0).value = Some(value);
    }
}

impl<T> Drop for Sender<T> {
    /// Closes the channel and wakes the receiver: with the value, if it was sent.
    fn drop(&mut self) {
        let waker = {
            let mut slot = lock(&self.0);
            slot.closed = true;
            slot.waker.take()
        };
        // Woken after the lock is released: the receiver's task may run on another worker at
        // once, and its first act is to take this lock.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = lock(&self.0);
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Some(value));
        }
        if slot.closed {
            return Poll::Ready(None);
        }
        // Under the lock the sender takes to close: a send cannot fall between our look and
        // our waker, so no wake is lost.
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
// ANCHOR_END: oneshot

/// The channel's ends may go to other threads: the compiler's proof, checked.
#[test]
fn the_channel_is_send() {
    fn send<T: Send>() {}
    send::<Sender<String>>();
    send::<Receiver<String>>();
}

/// 200 chains of 20 tasks each pass a number down through oneshots on two workers, every
/// link a wake that may cross threads; a lost wake would hang a chain (the watchdog fails it).
#[test]
fn values_pass_between_tasks_on_every_worker() {
    within(Duration::from_secs(60), "the chains", || {
        let runtime = Runtime::new(2).unwrap();
        let ends = runtime.block_on(async {
            let chains = (0..200u64).map(|chain| {
                let (first, mut rx) = oneshot::<u64>();
                for _ in 0..20 {
                    let (tx, next) = oneshot();
                    spawn(async move {
                        let n = rx.await.expect("sent");
                        tx.send(n + 1);
                    });
                    rx = next;
                }
                first.send(chain);
                spawn(rx)
            });
            join_all(chains).await
        });
        assert_eq!(
            ends,
            (0..200).map(|chain| Some(chain + 20)).collect::<Vec<_>>()
        );
        assert!(runtime.stats().polls.iter().all(|&n| n > 0));
    });
}

/// A sender dropped without sending wakes its receiver with `None`, from another thread.
#[test]
fn a_dropped_sender_wakes_its_receiver_with_none() {
    let runtime = Runtime::new(2).unwrap();
    let (tx, rx) = oneshot::<u8>();
    let waiting = runtime.spawn(rx);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(10));
        drop(tx);
    });
    assert_eq!(runtime.block_on(waiting), None);
}
