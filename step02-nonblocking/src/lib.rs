//! # Step 2: non-blocking
//!
//! A socket in non-blocking mode (`O_NONBLOCK`) never makes a call wait. A `connect` returns at
//! once with `EINPROGRESS` ("started, not finished"); a `read` with nothing to read returns at
//! once with `EWOULDBLOCK` ("not yet"). The thread keeps control, and can count, or start other
//! connections, while the kernel and the network do their part.
//!
//! But nothing tells the program *when* to ask again. The only way left is to keep asking:
//! [`busy_wait`] visits every socket in turn, round and round, and gets the whole fan-out done
//! in about one server delay, with one thread, and with one CPU core burning the whole time.
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`sys`] | the system calls: `socket`, `fcntl(O_NONBLOCK)`, `connect`, `SO_ERROR`, `getpeername`, `read`, `write` |
//! | [`count`] | counting while a connect is in flight: the talk's second program |
//! | [`connection`] | one connection as a state machine that stops at every "not yet" |
//! | [`busy_wait`](mod@busy_wait) | the fan-out that never waits and never sleeps |
#![forbid(unsafe_code)]

pub mod busy_wait;
pub mod connection;
pub mod count;
pub mod sys;

pub use busy_wait::{BusyWaitOutcome, busy_wait};

impl From<BusyWaitOutcome> for testbed::Outcome {
    /// The report gets the results, plus `not_yet` and `passes` as fields of this step's own.
    fn from(outcome: BusyWaitOutcome) -> testbed::Outcome {
        let mut report = testbed::Outcome::from(outcome.results);
        report
            .extra
            .insert("not_yet".into(), outcome.not_yet.into());
        report.extra.insert("passes".into(), outcome.passes.into());
        report
    }
}
