//! Synchronisation between tasks of one thread: a semaphore, an event, a mutex, a queue.
//! Small, because everything runs on one thread: no atomics, no locks, only `Cell`s and
//! wakers.

pub mod event;
pub mod mutex;
pub mod queue;
pub mod semaphore;

pub use event::Event;
pub use mutex::{Mutex, MutexGuard};
pub use queue::Queue;
pub use semaphore::{OwnedPermit, Permit, Semaphore};
