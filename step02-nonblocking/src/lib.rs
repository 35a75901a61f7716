//! # Step 2: non-blocking
//!
//! A socket in non-blocking mode (`O_NONBLOCK`) never makes a call wait. A `connect` returns at
//! once with `EINPROGRESS` ("started, not finished"); a `read` with nothing to read returns at
//! once with `EWOULDBLOCK` ("not yet"). The thread keeps control, and can count, or start other
//! connections, while the kernel and the network do their part.
//!
//! But nothing tells the program *when* to ask again. The only way left is to keep asking:
//! [`busy_wait`](fan_out::busy_wait) visits every socket in turn, round and round, and gets the
//! whole fan-out done in about one server delay, with one thread, and with one CPU core burning
//! the whole time.
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`sys`] | the system calls: `socket`, `fcntl(O_NONBLOCK)`, `connect`, `SO_ERROR`, `getpeername`, `read`, `write` |
//! | [`count`] | counting while a connect is in flight: the talk's second program |
//! | [`connection`] | one connection as a state machine that stops at every "not yet" |
//! | [`fan_out`] | the fan-out that never waits and never sleeps: `busy_wait` |
#![forbid(unsafe_code)]

pub mod connection;
pub mod count;
pub mod fan_out;
pub mod sys;

pub use fan_out::{BusyWaitOutcome, busy_wait, variants};
