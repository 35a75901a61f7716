//! The same fan-out and echo server on tokio's multi-threaded runtime, with as many workers as
//! ours: step 6's tokio code (`step06_async_await::on_tokio`), on a `multi_thread` runtime in
//! place of a `current_thread` one. Not a line of the async code changes: it was `Send`
//! already, because tokio's `spawn` always asks for it.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use step06_async_await::on_tokio;
use testbed::{FetchError, Workload};

use crate::fan_out::{FanOut, Options, Report, workers};

// ANCHOR: runtime
/// tokio's work-stealing runtime with `workers` worker threads. Each thread it starts gets a
/// number for the timeline, in the order they start (the workers first; a blocking-pool
/// thread, if one is ever started, after them).
fn runtime(workers: usize) -> io::Result<tokio::runtime::Runtime> {
    let started = Arc::new(AtomicUsize::new(0));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .on_thread_start(move || {
            testbed::record::set_worker(Some(started.fetch_add(1, Ordering::Relaxed)));
        })
        .enable_all()
        .build()
}
// ANCHOR_END: runtime

/// Runs the fan-out on tokio's multi-threaded runtime. (`budget` and `greedy` are
/// ours only: tokio's budget is always on.)
pub fn fan_out(workload: &Workload, options: Options) -> Report {
    let step6 = step06_async_await::Options {
        limit: options.limit,
        block: options.block,
        ..step06_async_await::Options::default()
    };
    let fan_out = match runtime(workers(&options)) {
        Ok(runtime) => on_tokio::fan_out_on(&runtime, workload, step6),
        Err(e) => FanOut {
            results: workload.all_failed(&FetchError::Setup(format!("cannot start tokio: {e}"))),
            blocked: None,
        },
    };
    Report {
        fan_out,
        stats: None,
        greedy: None,
    }
}

/// The echo server on tokio's multi-threaded runtime with `workers` workers.
pub fn echo_server(
    workers: usize,
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    on_tokio::echo_server_on(&runtime(workers)?, addr, announce)
}

/// Step 6's graceful echo server on tokio (a `JoinSet`, `tokio::signal`), on `workers`
/// threads.
pub fn echo_server_until_signal(
    workers: usize,
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
    grace: std::time::Duration,
    stopped: testbed::cli::Stopped,
) -> io::Result<testbed::cli::ShutDown> {
    let ended =
        on_tokio::echo_server_until_signal_on(&runtime(workers)?, addr, announce, grace, stopped)?;
    Ok(testbed::cli::ShutDown {
        finished: ended.finished,
        cut: ended.cut,
    })
}
