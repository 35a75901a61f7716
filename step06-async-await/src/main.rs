//! The step 6 binary: the fan-out with async/await, on our runtime or on tokio; and the echo
//! server.
//!
//! ```text
//! cargo run --release -p step06-async-await -- --timeline
//! cargo run --release -p step06-async-await -- --runtime tokio --timeline
//! cargo run --release -p step06-async-await -- --connections 20 --limit 5 --timeline
//! cargo run --release -p step06-async-await -- --block-ms 200 --timeline
//! cargo run --release -p step06-async-await -- --block-ms 200 --blocking-pool --timeline
//! cargo run --release -p step06-async-await -- echo-server --addr 127.0.0.1:8003
//! cargo run --release -p step06-async-await -- work-server --policy wait --capacity 64
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use step06_async_await::work::{Policy, WorkOptions};
use step06_async_await::{Blocking, Options, echo, fan_out, on_tokio, work, work_on_tokio};
use testbed::cli::{GracefulServerOptions, ServerOptions, ShutDown};
use testbed::{CommonOptions, Workload};

/// Step 6: async/await on our runtime, and on tokio beside it.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    server: Option<Server>,
    /// Which runtime runs the tasks.
    #[arg(long, default_value = "ours", value_parser = testbed::variants::parser(&step06_async_await::variants()))]
    runtime: String,
    /// At most K connections in flight at a time (a semaphore).
    #[arg(long, value_name = "K", value_parser = testbed::cli::at_least_one())]
    limit: Option<usize>,
    /// Add a task that, 10 ms in, blocks its thread for B milliseconds (std::thread::sleep).
    #[arg(long, value_name = "B")]
    block_ms: Option<u64>,
    /// Do that blocking on the blocking pool instead of on the loop's thread.
    #[arg(long, requires = "block_ms")]
    blocking_pool: bool,
    /// Print a task dump to stderr this long into the run: every live task, what it is doing,
    /// and what holds its waker (our runtime).
    #[arg(long, value_name = "MS")]
    dump_after_ms: Option<u64>,
    #[command(flatten)]
    common: CommonOptions,
}

/// The server of this step.
#[derive(Debug, Subcommand)]
enum Server {
    /// Echo every byte back: async fn, one task per connection.
    EchoServer {
        #[command(flatten)]
        server: GracefulServerOptions,
        /// Which runtime runs it.
        #[arg(long, default_value = "ours", value_parser = testbed::variants::parser(&step06_async_await::variants()))]
        runtime: String,
    },
    /// Read each request in full, queue it, and answer `done N` once a worker has spent
    /// `--work-ms` on it; on SIGINT or SIGTERM, stop and say what it did.
    WorkServer {
        #[command(flatten)]
        server: ServerOptions,
        /// Which runtime runs it.
        #[arg(long, default_value = "ours", value_parser = testbed::variants::parser(&step06_async_await::variants()))]
        runtime: String,
        /// What to do with new clients when `--capacity` jobs are held.
        #[arg(long, value_enum, default_value = "wait")]
        policy: Policy,
        /// The most jobs held at once (reading, queued, worked on), for `wait` and `shed`.
        #[arg(long, value_name = "N", default_value_t = 64, value_parser = testbed::cli::at_least_one())]
        capacity: usize,
        /// Worker tasks.
        #[arg(long, value_name = "N", default_value_t = 4, value_parser = testbed::cli::at_least_one())]
        workers: usize,
        /// How long one job takes a worker.
        #[arg(long, value_name = "MS", default_value_t = 2)]
        work_ms: u64,
    },
}

fn main() -> ExitCode {
    testbed::serve_if_child();
    let cli = Cli::parse();
    if let Some(Server::WorkServer {
        server,
        runtime,
        policy,
        capacity,
        workers,
        work_ms,
    }) = cli.server
    {
        testbed::run::quiet_when_the_reader_stops_reading();
        return testbed::cli::run_server(env!("CARGO_PKG_NAME"), || {
            let options = WorkOptions {
                policy,
                capacity,
                workers,
                work: Duration::from_millis(work_ms),
            };
            let (addr, announce) = (server.addr, testbed::child::announce);
            let stats = match runtime.as_str() {
                "tokio" => work_on_tokio::work_server_until_signal(addr, announce, options)?,
                _ => work::work_server_until_signal(addr, announce, options)?,
            };
            let peak_rss_kib = testbed::report::proc_status_kib("VmHWM").unwrap_or(0);
            println!(
                "stopped: {} served, {} turned away busy; held at most {} jobs, \
                 queued at most {}; peak RSS {:.1} MiB",
                stats.served,
                stats.busy,
                stats.most_held,
                stats.most_queued,
                peak_rss_kib as f64 / 1024.0
            );
            Ok(())
        });
    }
    if let Some(Server::EchoServer { server, runtime }) = cli.server {
        let addr = server.server.addr;
        return testbed::cli::run_graceful_server(
            env!("CARGO_PKG_NAME"),
            server.grace_ms,
            |grace, stopped| {
                let announce = testbed::child::announce;
                let ended = match runtime.as_str() {
                    "tokio" => on_tokio::echo_server_until_signal(addr, announce, grace, stopped)?,
                    _ => echo::echo_server_until_signal(addr, announce, grace, stopped)?,
                };
                Ok(ShutDown {
                    finished: ended.finished,
                    cut: ended.cut,
                })
            },
        );
    }
    let options = Options {
        limit: cli.limit,
        block: cli.block_ms.map(|ms| Blocking {
            duration: Duration::from_millis(ms),
            on_pool: cli.blocking_pool,
        }),
        dump_after: cli.dump_after_ms.map(Duration::from_millis),
    };
    if options.dump_after.is_some() && cli.runtime == "tokio" {
        eprintln!(
            "step06-async-await: --dump-after-ms is our runtime's task dump; tokio has its own \
             (Handle::dump), which needs RUSTFLAGS=\"--cfg tokio_unstable\" and its taskdump feature"
        );
        return ExitCode::from(2);
    }
    // The listed variants run with no limit and nothing blocking; with this binary's options,
    // the same fan-outs are called with them.
    let variant = testbed::variants::find(&step06_async_await::variants(), &cli.runtime);
    testbed::run_step(
        env!("CARGO_PKG_NAME"),
        variant.variant,
        &cli.common,
        |workload: &Workload| match variant.variant {
            "tokio" => on_tokio::fan_out(workload, options),
            _ => fan_out(workload, options),
        },
    )
}
