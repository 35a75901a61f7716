//! # Step 1: blocking
//!
//! The most natural way to talk to a server: `connect`, `write`, `read`, and every one of those
//! calls waits until its work is done. While a call waits, the thread that made it can do
//! nothing else, so there are two ways to run many connections:
//!
//! - [`sequential`]: one after another. The run takes the sum of all their waits.
//! - [`threads`]: one OS thread per connection, all at once. The run takes about one wait, and
//!   each thread costs a stack, a kernel task and a scheduling slot.
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`fetch`] | one connection, blocking, with a deadline on every call |
//! | [`fan_out`] | the fan-outs: `sequential`, `threads`, and the list of them |
//! | [`thread_cost`] | what a thread costs in memory, measured |
#![forbid(unsafe_code)]

pub mod fan_out;
pub mod fetch;
pub mod thread_cost;

pub use fan_out::{STACK_SIZE, sequential, threads, variants};
pub use fetch::fetch;
