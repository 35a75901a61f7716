//! Synchronisation between tasks of one thread: a semaphore, an event, a mutex. Small, because
//! everything runs on one thread: no atomics, no locks, only `Cell`s and wakers.

pub mod event;
pub mod mutex;
pub mod semaphore;

pub use event::Event;
pub use mutex::{Mutex, MutexGuard};
pub use semaphore::{Permit, Semaphore};
