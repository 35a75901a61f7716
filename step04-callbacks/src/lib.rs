//! # Step 4: callbacks on an event loop
//!
//! Step 3's program split in two: the part that knows about HTTP, and the part that does not
//! (start things, wait for the kernel, run the code that waits for each event). The second part
//! is a framework, in the talk's three pieces:
//!
//! 1. non-blocking I/O objects that fit the loop (mio's sockets);
//! 2. a main loop the user starts ([`IoLoop::run`](io_loop::IoLoop::run));
//! 3. user code run when the events it cares about happen (callbacks).
//!
//! On it: the talk's Tornado server ([`hello`]), Twisted's protocols ([`protocol`]) and their
//! echo server ([`echo`]), Twisted's [`Deferred`](deferred::Deferred), a client made of deferreds
//! ([`client`]), and the fan-out written as chains of callbacks ([`fan_out`](mod@fan_out)).
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`io_loop`] | `IoLoop`: handlers, timers, `call_soon`, `run`, `stop` |
//! | [`accept`] | accepting every waiting connection on a listener |
//! | [`hello`] | the Tornado-style hello server |
//! | [`protocol`] | `Protocol`, `Transport`, `Factory`, `listen_tcp` |
//! | [`echo`] | the echo protocol |
//! | [`deferred`] | `Deferred` and its `Trigger` |
//! | [`client`] | `connect`, `send`, `read_response`, each returning a deferred |
//! | [`fan_out`](mod@fan_out) | the fan-out as callbacks |
#![forbid(unsafe_code)]

pub mod accept;
pub mod client;
pub mod deferred;
pub mod echo;
pub mod fan_out;
pub mod hello;
pub mod io_loop;
pub mod protocol;

pub use fan_out::{fan_out, variants};
pub use io_loop::IoLoop;
