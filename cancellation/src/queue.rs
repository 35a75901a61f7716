//! A wait for a lock (or a semaphore's permit), cut by a timeout, loses its place in the
//! queue: the lock is fair, first come first served, and a waiter that gives up and asks again
//! comes last. What it must not lose is anything else: the permit it did not get goes to the
//! next in line, and no permit leaks.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use step05_futures::spawn;
use step05_futures::time::sleep;
use step06_async_await::sync::Mutex;
use step06_async_await::timeout::timeout;

/// How long the first waiter waits before it gives up (and asks again).
const PATIENCE: Duration = Duration::from_millis(10);
/// How long the lock is held while the three queue.
const HELD: Duration = Duration::from_millis(30);

// ANCHOR: ours
/// Three tasks queue for a lock that is held, in the order `a`, `b`, `c`; `a` gives up after
/// 10 ms and asks again. Returns the order in which they got the lock.
pub fn ours() -> Vec<&'static str> {
    step05_futures::block_on(async {
        let mutex = Rc::new(Mutex::new(Vec::new()));
        let held = mutex.lock().await;
        let waiter = |name: &'static str, patient: bool| {
            let mutex = Rc::clone(&mutex);
            spawn(async move {
                if !patient && timeout(PATIENCE, mutex.lock()).await.is_ok() {
                    unreachable!("the lock is held for longer than {PATIENCE:?}");
                }
                // Patient, or asking again after giving up: to the back of the queue.
                mutex.lock().await.push(name);
            })
        };
        let tasks = [waiter("a", false), waiter("b", true), waiter("c", true)];
        sleep(HELD).await;
        drop(held);
        for task in tasks {
            task.await;
        }
        mutex.lock().await.clone()
    })
}
// ANCHOR_END: ours

/// The same on tokio, with its `Mutex` (also fair, first come first served).
pub fn on_tokio() -> Vec<&'static str> {
    let runtime = crate::tokio_runtime();
    runtime.block_on(async {
        let mutex = Arc::new(tokio::sync::Mutex::new(Vec::new()));
        let held = mutex.lock().await;
        let waiter = |name: &'static str, patient: bool| {
            let mutex = Arc::clone(&mutex);
            tokio::spawn(async move {
                if !patient && tokio::time::timeout(PATIENCE, mutex.lock()).await.is_ok() {
                    unreachable!("the lock is held for longer than {PATIENCE:?}");
                }
                mutex.lock().await.push(name);
            })
        };
        let tasks = [waiter("a", false), waiter("b", true), waiter("c", true)];
        tokio::time::sleep(HELD).await;
        drop(held);
        for task in tasks {
            task.await.expect("the waiter does not panic");
        }
        mutex.lock().await.clone()
    })
}

/// A semaphore of one permit, a waiter cut by a timeout: afterwards the permit is there again
/// for whoever asks (none leaked with the waiter that gave up).
pub fn permits_left_after_a_cut() -> usize {
    let semaphore = Rc::new(step06_async_await::sync::Semaphore::new(1));
    step05_futures::block_on(async {
        let held = semaphore.acquire().await;
        let gave_up = timeout(PATIENCE, semaphore.acquire()).await.is_err();
        assert!(gave_up, "the permit is held");
        drop(held);
    });
    semaphore.available()
}
