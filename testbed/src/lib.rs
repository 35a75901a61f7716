//! # testbed: the local world every step talks to
//!
//! Every step of the book runs the same workload: open N connections to a server, send
//! `GET /delay/{ms} HTTP/1.0`, read the answer to the end, check it, and record when each
//! connection started, connected, wrote, got its first byte and finished. This crate is
//! everything around that workload that is *not* the lesson, so the step crates can stay small:
//!
//! - a **delay server** (with **chaos paths** that misbehave on purpose), on a thread or in a
//!   child process;
//! - the **shared command-line options** and the **run report** every step binary prints;
//! - the **response check** every client uses;
//! - the **timeline** drawings (ASCII and SVG);
//! - raising the **open-file limit** for runs with many sockets;
//! - the **fault suite**, a set of tests any step's fan-out can be run through, the
//!   **echo check**, the same for echo servers, and the **shutdown check** for echo servers
//!   that stop gracefully on a signal.
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`server`] | the delay server: routes, chaos behaviours, [`ServerHandle`] (on a thread) |
//! | [`child`] | the server in a child process: [`ChildServer`], [`serve_if_child`] |
//! | [`workload`] | [`Target`] and [`Workload`]: what a fan-out is asked to do |
//! | [`record`] | [`ConnectionRecord`], [`ConnectionResult`], [`FetchError`]: what happened |
//! | [`response`] | [`ResponseCheck`]: is this a complete `200`? |
//! | [`report`] | [`RunReport`]: the run's measurements, text or JSON |
//! | [`timeline`] | the ASCII and SVG drawings of a run |
//! | [`trace_file`] | `--trace-file`: a run as Chrome trace-event JSON, for Perfetto |
//! | [`limits`] | RLIMIT_NOFILE |
//! | [`cli`] | [`CommonOptions`], the options every step binary shares |
//! | [`run`] | [`run_step`]: what a step binary does around its fan-out |
//! | [`faults`] | the fault suite and the [`fault_suite!`] macro |
//! | [`echo_check`] | the load and byte-for-byte check every echo server is run through |
//! | [`self_pipe`] | SIGINT and SIGTERM as bytes on a socket, for every step's `Signals` |
//! | [`shutdown_check`] | SIGTERM in the middle of an echo server's work: who is served, who is cut |
#![forbid(unsafe_code)]

pub mod child;
pub mod cli;
pub mod echo_check;
pub mod faults;
pub mod limits;
pub mod locks;
pub mod record;
pub mod report;
pub mod response;
pub mod run;
pub mod self_pipe;
pub mod server;
pub mod shutdown_check;
pub mod svg;
pub mod timeline;
pub mod trace_file;
pub mod variants;
pub mod workload;

pub use child::{ChildServer, ServeArgs, serve_if_child};
pub use cli::CommonOptions;
pub use locks::lock;
pub use record::{ConnectionRecord, ConnectionResult, FetchError, RunClock, Stage};
pub use report::{Outcome, RunReport};
pub use response::{ResponseCheck, ResponseError};
pub use run::run_step;
pub use server::{ServerConfig, ServerHandle};
pub use variants::{Plan, Variant};
pub use workload::{Target, Workload};
