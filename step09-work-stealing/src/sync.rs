//! Synchronisation between tasks on different threads.

pub mod event;
pub mod semaphore;

pub use event::Event;
pub use semaphore::{Acquire, Permit, Semaphore};
