//! # Step 6: async/await
//!
//! Step 5 wrote one connection as a state machine by hand: an `enum` of the places where it can
//! wait, and a `poll` that moves between them. An `async fn` is that, written by the compiler:
//! each `.await` becomes a state, the locals that live across it become fields, and the
//! function's body reads top to bottom like step 1's blocking code. The runtime underneath is
//! step 5's, unchanged (this crate only depends on it).
//!
//! On it: a [`timeout`](timeout::timeout), a [`Semaphore`](sync::Semaphore), an
//! [`Event`](sync::Event), a [`Mutex`](sync::Mutex), a pool for blocking work
//! ([`spawn_blocking`](blocking::spawn_blocking)); the fan-out and an echo server written with
//! `async fn` ([`ours`]); and the same on tokio ([`tokio_rt`]), to read side by side.
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`timeout`] | `timeout(duration, future)`: cancellation by drop |
//! | [`sync`] | `Semaphore`, `Event`, `Mutex` for one thread's tasks |
//! | [`blocking`] | `spawn_blocking`: a small thread pool, results through wakers |
//! | [`ours`] | the fan-out and the echo server on step 5's runtime |
//! | [`tokio_rt`] | the same on tokio |
//! | [`yield_now`](mod@yield_now) | letting the other tasks run |
//! | [`net`] | a `TcpStream` for any executor: our reactor if it runs here, else the background one |
//! | [`background`] | a reactor turned by a thread of its own (as smol's `async-io`) |
//! | [`interop`] | which runtime's I/O works on which executor, tried for real |
#![forbid(unsafe_code)]

pub mod background;
pub mod blocking;
pub mod interop;
pub mod net;
pub mod ours;
pub mod sync;
pub mod timeout;
pub mod tokio_rt;
pub mod yield_now;

use std::time::Duration;

use testbed::{ConnectionResult, Outcome, Workload};

/// A task that blocks for a while, to show what that does to the others.
#[derive(Debug, Clone, Copy)]
pub struct Blocking {
    /// How long it blocks.
    pub duration: Duration,
    /// Whether it does its blocking on the blocking pool (the way out) instead of on the loop.
    pub on_pool: bool,
}

/// How to run the fan-out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// At most this many connections in flight (a semaphore); `None`: no limit.
    pub limit: Option<usize>,
    /// A task that blocks, if any.
    pub block: Option<Blocking>,
}

/// What a fan-out returns: the results, and when the blocking task (if any) blocked, in ms.
#[derive(Debug, Clone)]
pub struct FanOut {
    /// One result per connection, in id order.
    pub results: Vec<ConnectionResult>,
    /// (started, ended) of the blocking task's blocking.
    pub blocked: Option<(f64, f64)>,
}

impl From<FanOut> for Outcome {
    /// The report gets the results, and `blocked_from_ms` / `blocked_until_ms` if a task blocked.
    fn from(fan_out: FanOut) -> Outcome {
        let mut outcome = Outcome::from(fan_out.results);
        if let Some((from, until)) = fan_out.blocked {
            let tenths = |ms: f64| (ms * 10.0).round() / 10.0;
            outcome
                .extra
                .insert("blocked_from_ms".into(), tenths(from).into());
            outcome
                .extra
                .insert("blocked_until_ms".into(), tenths(until).into());
        }
        outcome
    }
}

/// The fan-out on step 5's runtime, with no limit and nothing blocking: for `compare`.
pub fn fan_out_ours(workload: &Workload) -> Vec<ConnectionResult> {
    ours::fan_out(workload, Options::default()).results
}

/// The fan-out on tokio, with no limit and nothing blocking: for `compare`.
pub fn fan_out_tokio(workload: &Workload) -> Vec<ConnectionResult> {
    tokio_rt::fan_out(workload, Options::default()).results
}
