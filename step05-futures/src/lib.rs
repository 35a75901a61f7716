//! # Step 5: futures by hand
//!
//! Callbacks say "call me when it is done". Futures say "poll me again when it might be". A
//! future is a value with one method, `poll`, that does as much as it can and returns
//! `Ready(output)` or `Pending`; before returning `Pending` it leaves a `Waker` with whatever it
//! waits for, and the waker, when woken, asks for the future to be polled again. Nobody calls
//! into the future's code from outside except through `poll`.
//!
//! This crate builds the machinery that makes that work, on mio, small enough to read:
//!
//! - a **reactor** that waits for the kernel and wakes the futures whose sockets or timers are
//!   ready ([`reactor`]);
//! - an **executor** that polls the futures that were woken, and runs spawned tasks
//!   ([`executor`]: `block_on`, `spawn`, `JoinHandle`);
//! - **leaf futures**, the ones at the bottom that talk to the reactor ([`net`], [`time`]);
//! - the fan-out's connection as a **hand-written state machine** ([`fetch`]), joined three ways
//!   ([`join`], [`fan_out`](mod@fan_out));
//! - an echo server of tasks ([`echo`]).
//!
//! ## Layout
//!
//! The job at the top, the machinery in [`runtime`] (each of its modules re-exported here):
//!
//! | module | what it holds |
//! |---|---|
//! | [`fetch`] | one connection as an `enum` implementing `Future` |
//! | [`join`] | a hand-written `JoinAll` |
//! | [`fan_out`](mod@fan_out) | the fan-out: `state_machine`, `join_all`, `unordered` |
//! | [`echo`] | the echo server: an accept loop spawning a task per connection |
//! | [`toy`] | the runtime built up in three small pieces first: `block_on`, `Executor`, `Reactor` |
//! | [`runtime::reactor`] | registrations, readiness with ticks, wakers, timers, `turn` |
//! | [`runtime::run_queue`] | the queue of woken tasks, their wakers, the `Driver` the loop sleeps in |
//! | [`runtime::executor`] | tasks, `block_on` (and `block_on_driven`, for any driver), `spawn`, `JoinHandle` |
//! | [`runtime::dump`] | a task dump: every live task, its state, what holds its waker |
//! | [`runtime::raw_waker`] | a waker built by hand with `RawWakerVTable` (the only `unsafe` here) |
//! | [`runtime::net`] | `TcpStream` (`connect`, `read`, `write_all`), `TcpListener` (`accept`) |
//! | [`runtime::time`] | `Sleep` |
//! | [`runtime::timers`] | the heap of deadlines a driver waits no longer than (the reactor's, and step 8's ring's) |
//! | [`runtime::trace`] | `--trace`: the machinery, line by line |
#![deny(unsafe_code)]

pub mod echo;
pub mod fan_out;
pub mod fetch;
pub mod join;
pub mod runtime;
pub mod toy;

pub use fan_out::variants;
pub use runtime::executor::{JoinHandle, block_on, spawn};
pub use runtime::{dump, executor, net, raw_waker, reactor, run_queue, time, timers, trace};
