//! # Interop: one runtime's futures on another
//!
//! A future is only half of an I/O operation: its readiness comes from a reactor, and the
//! reactor has to be turned by somebody. Python's PEP 3156 made asyncio's event loop pluggable
//! so that Twisted's and Tornado's loops and asyncio's could share coroutines; Rust has no such
//! standard, and the question "does this library's future work on that executor?" is answered
//! by where its reactor lives. This crate tries every combination of steps 5 and 6 beside tokio
//! and `futures::executor::block_on`, for real, and builds the way out: a `TcpStream` that
//! works under any executor, on a reactor turned by a thread of its own (as smol's `async-io`).
//!
//! `cargo run --release -p interop` prints every case and what happened (`--svg FILE` also
//! draws them).
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`cases`](mod@cases) | which runtime's I/O works on which executor, tried for real |
//! | [`net`] | a `TcpStream` for any executor: our reactor if it runs here, else the background one |
//! | [`background`] | a reactor turned by a thread of its own |
//! | [`figure`] | the chapter's figure: who turns which reactor, beside each verdict |
#![forbid(unsafe_code)]

pub mod background;
pub mod cases;
pub mod figure;
pub mod net;

pub use cases::{Case, Verdict, cases};
