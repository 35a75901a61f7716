//! Synchronisation between tasks on different threads.

pub mod semaphore;

pub use semaphore::{Acquire, Permit, Semaphore};
