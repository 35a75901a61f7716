//! # Step 7: green threads, gevent's way
//!
//! Steps 5 and 6 made waiting visible: a future returns `Pending`, an `async fn` says `.await`.
//! gevent takes the other road: code stays blocking code, and the waiting is hidden in the
//! socket. Each connection runs on a *green thread*, a closure with a stack of its own; when a
//! socket call would block, the green thread saves its registers and switches to the *hub*,
//! which runs another one, and switches back when the reactor says the socket is ready. The
//! stack keeps every local variable where it was, so nothing has to be turned into a state
//! machine: step 1's `fetch` runs here unchanged, but for the `use` of `TcpStream`.
//!
//! The machinery underneath is step 5's: the same reactor, the same wakers, the same
//! readiness protocol. Only the thing a waker resumes differs: a stack instead of a future.
//!
//! ## Layout
//!
//! The job at the top, the machinery in [`green`] (each of its modules re-exported here):
//!
//! | module | what it holds |
//! |---|---|
//! | [`fetch`] | step 1's `fetch.rs`, with the green `TcpStream` |
//! | [`fan_out`](mod@fan_out) | one green thread per connection |
//! | [`echo`] | the echo server, one green thread per connection |
//! | [`green_cost`] | memory per green thread, measured |
//! | [`green::hub`] | the scheduler: `run`, `spawn`, `JoinHandle`, `park_until`, `sleep`, `yield_now` |
//! | [`green::switch`] | the running green thread's yielder: the crate's one `unsafe` |
//! | [`green::net`] | `TcpStream` and `TcpListener` with std's API, blocking only their green thread |
//! | [`green::sync`] | `Event` and `Pool` |
#![deny(unsafe_code)]

pub mod echo;
pub mod fan_out;
pub mod fetch;
pub mod green;
pub mod green_cost;

pub use fan_out::{Options, fan_out, variants};
pub use green::hub::{JoinHandle, join_all, run, sleep, spawn, yield_now};
pub use green::{hub, net, switch, sync};
