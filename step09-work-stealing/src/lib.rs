//! # Step 9: every core, work stealing
//!
//! Every runtime so far ran its tasks on one thread, as asyncio, Twisted, Tornado and gevent
//! do. This one runs them on `W` worker threads: each worker has a run queue of its own, a
//! global queue (the injector) takes tasks spawned or woken from outside, and a worker that
//! runs dry steals half of another's queue. The async code is step 6's, line for line; what
//! makes it run on many threads is that its futures are `Send`, which the compiler checks.
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`fetch`] | one connection: step 6's `fetch.rs` |
//! | [`fan_out`](mod@fan_out) | a task per connection: step 6's, `Rc` made `Arc` |
//! | [`echo`] | the echo server, a task per connection, no `yield_now` |
//! | [`greedy`] | a connection that is always ready, to show what the budget is for |
//! | [`on_tokio`] | the same on tokio's `multi_thread` runtime |
//! | [`runtime`] | the runtime: workers, queues, the task state machine, the shared reactor |
//! | [`sync`] | `Semaphore` for tasks on any thread |
#![forbid(unsafe_code)]

pub mod echo;
pub mod fan_out;
pub mod fetch;
pub mod greedy;
pub mod on_tokio;
pub mod runtime;
pub mod sync;

pub use fan_out::{Blocking, FanOut, Options, Report, fan_out, variants};
pub use runtime::{JoinHandle, Runtime, spawn};
