//! The step 7 binary: the fan-out on green threads, and the echo server.
//!
//! ```text
//! cargo run --release -p step07-green-threads -- --timeline
//! cargo run --release -p step07-green-threads -- --connections 20 --limit 5 --timeline
//! cargo run --release -p step07-green-threads -- --connections 10000 --delay-ms 50
//! cargo run --release -p step07-green-threads -- echo-server --addr 127.0.0.1:8007
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use step07_green_threads::Options;
use testbed::cli::GracefulServerOptions;
use testbed::{CommonOptions, Outcome, Workload};

/// Step 7: one green thread per connection, running blocking-looking code.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    server: Option<Server>,
    /// At most K connections in flight at a time (a pool of green threads).
    #[arg(long, value_name = "K", value_parser = testbed::cli::at_least_one())]
    limit: Option<usize>,
    /// The stack of each green thread, in KiB.
    #[arg(long, value_name = "KIB", default_value_t = step07_green_threads::hub::STACK_SIZE / 1024,
          value_parser = testbed::cli::stack_kib())]
    stack_kib: usize,
    #[command(flatten)]
    common: CommonOptions,
}

/// The server of this step.
#[derive(Debug, Subcommand)]
enum Server {
    /// Echo every byte back: one green thread per connection.
    EchoServer(GracefulServerOptions),
}

fn main() -> ExitCode {
    testbed::serve_if_child();
    let cli = Cli::parse();
    if let Some(Server::EchoServer(options)) = cli.server {
        let addr = options.server.addr;
        return testbed::cli::run_graceful_server(
            env!("CARGO_PKG_NAME"),
            options.grace_ms,
            |grace, stopped| {
                step07_green_threads::echo::echo_server_until_signal(
                    addr,
                    testbed::child::announce,
                    grace,
                    stopped,
                )
            },
        );
    }
    let options = Options {
        limit: cli.limit,
        stack_size: cli.stack_kib * 1024,
    };
    let [variant] = step07_green_threads::variants()[..] else {
        unreachable!("step 7 has one fan-out")
    };
    // The listed variant runs with the defaults; this binary passes its options.
    testbed::run_step(
        env!("CARGO_PKG_NAME"),
        variant.variant,
        &cli.common,
        |workload: &Workload| {
            let mut outcome = Outcome::from(step07_green_threads::fan_out(workload, options));
            outcome
                .extra
                .insert("stack_kib".into(), cli.stack_kib.into());
            outcome
        },
    )
}
