//! The step 9 binary: the fan-out on every core, on our work-stealing runtime or on tokio's;
//! and the echo server.
//!
//! ```text
//! cargo run --release -p step09-work-stealing -- --timeline
//! cargo run --release -p step09-work-stealing -- --workers 1 --timeline
//! cargo run --release -p step09-work-stealing -- --runtime tokio --workers 2
//! cargo run --release -p step09-work-stealing -- --workers 1 --greedy --budget 0 --timeline
//! cargo run --release -p step09-work-stealing -- --connections 20 --limit 5 --timeline
//! cargo run --release -p step09-work-stealing -- echo-server --addr 127.0.0.1:8009
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use step09_work_stealing::fan_out::workers;
use step09_work_stealing::{Blocking, Options, echo, fan_out, on_tokio};
use testbed::cli::GracefulServerOptions;
use testbed::{CommonOptions, Workload};

/// Step 9: step 6's async code on every core, on our work-stealing runtime or tokio's.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    server: Option<Server>,
    /// Which runtime runs the tasks.
    #[arg(long, default_value = "ours", value_parser = testbed::variants::parser(&step09_work_stealing::variants()))]
    runtime: String,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "W", value_parser = testbed::cli::at_least_one())]
    workers: Option<usize>,
    /// I/O operations a task may finish per poll before it must yield (ours only; default
    /// 128, as tokio's; 0 turns the budget off, to see what it is for).
    #[arg(long, value_name = "N")]
    budget: Option<u32>,
    /// Add a greedy connection (ours only): its socket always has data (megabytes, read 16
    /// bytes at a time), so it never has to wait.
    #[arg(long)]
    greedy: bool,
    /// At most K connections in flight at a time (a semaphore).
    #[arg(long, value_name = "K", value_parser = testbed::cli::at_least_one())]
    limit: Option<usize>,
    /// Add a task that, 10 ms in, blocks its worker thread for B milliseconds.
    #[arg(long, value_name = "B")]
    block_ms: Option<u64>,
    /// Do that blocking on the blocking pool instead of on a worker.
    #[arg(long, requires = "block_ms")]
    blocking_pool: bool,
    #[command(flatten)]
    common: CommonOptions,
}

/// The server of this step.
#[derive(Debug, Subcommand)]
enum Server {
    /// Echo every byte back: a task per connection, on every core.
    EchoServer {
        #[command(flatten)]
        server: GracefulServerOptions,
        /// Which runtime runs it.
        #[arg(long, default_value = "ours", value_parser = testbed::variants::parser(&step09_work_stealing::variants()))]
        runtime: String,
        /// Worker threads (default: one per core).
        #[arg(long, value_name = "W", value_parser = testbed::cli::at_least_one())]
        workers: Option<usize>,
        /// I/O operations a task may finish per poll (ours only; default 128; 0: no budget).
        #[arg(long, value_name = "N")]
        budget: Option<u32>,
    },
}

fn main() -> ExitCode {
    testbed::serve_if_child();
    let cli = Cli::parse();
    if let Some(Server::EchoServer {
        server,
        runtime,
        workers: count,
        budget,
    }) = cli.server
    {
        let count = workers(&Options {
            workers: count,
            ..Options::default()
        });
        let budget = step09_work_stealing::fan_out::budget(budget);
        let addr = server.server.addr;
        let announce = testbed::child::announce;
        return testbed::cli::run_graceful_server(
            env!("CARGO_PKG_NAME"),
            server.grace_ms,
            |grace, stopped| match runtime.as_str() {
                "tokio" => {
                    on_tokio::echo_server_until_signal(count, addr, announce, grace, stopped)
                }
                _ => echo::echo_server_until_signal(count, budget, addr, announce, grace, stopped),
            },
        );
    }
    if cli.runtime == "tokio" && (cli.budget.is_some() || cli.greedy) {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--budget and --greedy are for our runtime only (tokio's budget is fixed)",
            )
            .exit();
    }
    let options = Options {
        limit: cli.limit,
        block: cli.block_ms.map(|ms| Blocking {
            duration: Duration::from_millis(ms),
            on_pool: cli.blocking_pool,
        }),
        workers: cli.workers,
        budget: cli.budget,
        greedy: cli.greedy,
    };
    let variant = testbed::variants::find(&step09_work_stealing::variants(), &cli.runtime);
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
