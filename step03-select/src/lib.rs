//! # Step 3: select, poll and epoll
//!
//! Step 2 had the right sockets (non-blocking) and the wrong loop (asking each of them "ready
//! yet?" over and over). This step keeps the sockets and step 2's per-connection state machine
//! exactly as they were, and replaces the loop: one system call that hands the kernel all the
//! sockets and sleeps until at least one of them can go on. The process uses no CPU while it
//! waits, and wakes up knowing which sockets to visit.
//!
//! Three such calls, from the oldest: `select` (bit sets, at most 1024 descriptors), `poll` (an
//! array, no limit, but the whole array crosses into the kernel on every call) and `epoll`
//! (Linux: the watched set lives in the kernel, and a wait costs the number of *ready*
//! descriptors, not of watched ones).
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`waiter`] | the [`Waiter`](waiter::Waiter) trait the three share |
//! | [`select`](mod@select) | `select(2)`, and the `FD_SETSIZE` check |
//! | [`poll`](mod@poll) | `poll(2)` |
//! | `epoll` | `epoll(7)`, Linux only |
//! | [`fan_out`](mod@fan_out) | the fan-out: start everything, then wait, visit, repeat |
#![forbid(unsafe_code)]

#[cfg(target_os = "linux")]
pub mod epoll;
pub mod fan_out;
pub mod poll;
pub mod select;
pub mod waiter;

pub use fan_out::{fan_out, variants};
