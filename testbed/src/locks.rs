//! The workspace's one policy for poisoned locks, said once.
//!
//! A `std::sync::Mutex` is *poisoned* when a thread panics while holding it, and `lock` then
//! returns an error, in case the panic left the data half-updated. Every mutex in this
//! workspace guards data that a panic cannot leave half-updated (a queue's push or pop, a flag,
//! a counter, a slot that is filled in one assignment), and a panic in one task, green thread
//! or helper thread must not take the others down with it. So every lock is taken with
//! [`lock`], which recovers the guard from a poisoned mutex instead of panicking.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, also after a thread panicked while holding it (see the module documentation
/// for why that is safe here).
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
