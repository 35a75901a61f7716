//! A mutex for one thread's tasks, whose guard may be held across `.await`: a semaphore of one
//! permit, and a `RefCell` for the value.

use std::cell::{RefCell, RefMut};
use std::ops::{Deref, DerefMut};

use super::semaphore::{Permit, Semaphore};

// ANCHOR: mutex
/// A value one task at a time may use; the others wait their turn (first come, first served).
#[derive(Debug)]
pub struct Mutex<T> {
    /// One permit: whoever holds it holds the lock.
    lock: Semaphore,
    /// The value. Only the holder of the permit borrows it, so the borrow never fails.
    value: RefCell<T>,
}

/// Access to the value; the lock is released when it is dropped.
#[derive(Debug)]
pub struct MutexGuard<'a, T> {
    /// The borrow of the value (dropped first: fields drop in order).
    value: RefMut<'a, T>,
    /// The permit (dropped second, which lets the next task in).
    _permit: Permit<'a>,
}

impl<T> Mutex<T> {
    /// A mutex around `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            lock: Semaphore::new(1),
            value: RefCell::new(value),
        }
    }

    /// Waits for the lock, first come first served.
    ///
    /// Cancel safe as `Semaphore::acquire` is, its one `.await`: dropped while it waits, it
    /// leaves the queue and loses its place (`cancellation/tests/queue.rs`).
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        let permit = self.lock.acquire().await;
        MutexGuard {
            value: self.value.borrow_mut(),
            _permit: permit,
        }
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}
// ANCHOR_END: mutex
