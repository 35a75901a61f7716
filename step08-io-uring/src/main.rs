//! The step 8 binary: the fan-out on io_uring, and the echo server.
//!
//! ```text
//! cargo run --release -p step08-io-uring -- --timeline
//! cargo run --release -p step08-io-uring -- --connections 10000
//! cargo run --release -p step08-io-uring -- --connections 10000 --variant owned
//! cargo run --release -p step08-io-uring -- --connections 1000 --ring-entries 8
//! cargo run --release -p step08-io-uring -- --connections 20 --trace
//! cargo run --release -p step08-io-uring -- echo-server --addr 127.0.0.1:8008
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use step08_io_uring::fetch::Buffers;
use step08_io_uring::uring::pool::DEFAULT_BUFFERS;
use step08_io_uring::{Options, echo, fan_out};
use testbed::cli::GracefulServerOptions;
use testbed::{CommonOptions, Workload};

/// Step 8: completion-based I/O on io_uring, on step 5's executor.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    server: Option<Server>,
    /// Where responses are received: `pool`, buffers the kernel picks from a pool when data
    /// arrives; `owned`, a buffer per connection, lent to the kernel with every receive.
    #[arg(long, default_value = "pool", value_parser = testbed::variants::parser(&step08_io_uring::variants()))]
    variant: String,
    /// How many buffers (of 8 KiB) the pool has, with `--variant pool`.
    #[arg(long, value_name = "B", default_value_t = DEFAULT_BUFFERS,
          value_parser = clap::value_parser!(u16).range(1..))]
    pool_buffers: u16,
    /// At most K connections in flight at a time (a semaphore).
    #[arg(long, value_name = "K", value_parser = testbed::cli::at_least_one())]
    limit: Option<usize>,
    /// Print what goes through the ring: each io_uring_enter with the entries it hands over,
    /// each batch of completions reaped (use with few connections).
    #[arg(long)]
    trace: bool,
    /// The ring's submission queue, in entries (a power of two). Smaller than the connections
    /// works: a full queue is handed to the kernel and filled again.
    #[arg(long, value_name = "E", default_value_t = step08_io_uring::uring::ring::DEFAULT_ENTRIES,
          value_parser = clap::value_parser!(u32).range(1..=32768))]
    ring_entries: u32,
    #[command(flatten)]
    common: CommonOptions,
}

/// The server of this step.
#[derive(Debug, Subcommand)]
enum Server {
    /// Echo every byte back: a task per connection, receives and sends on the ring.
    EchoServer {
        #[command(flatten)]
        server: GracefulServerOptions,
    },
}

fn main() -> ExitCode {
    testbed::serve_if_child();
    let cli = Cli::parse();
    if let Some(reason) = step08_io_uring::unavailable() {
        eprintln!("{}: cannot run here: {reason}", env!("CARGO_PKG_NAME"));
        return ExitCode::from(2);
    }
    if let Some(Server::EchoServer { server }) = cli.server {
        let addr = server.server.addr;
        return testbed::cli::run_graceful_server(
            env!("CARGO_PKG_NAME"),
            server.grace_ms,
            |grace, stopped| {
                echo::echo_server_until_signal(addr, testbed::child::announce, grace, stopped)
            },
        );
    }
    if cli.trace {
        step05_futures::trace::enable();
    }
    let variant = testbed::variants::find(&step08_io_uring::variants(), &cli.variant);
    let options = Options {
        limit: cli.limit,
        ring_entries: cli.ring_entries,
        buffers: match variant.variant {
            "owned" => Buffers::Owned,
            _ => Buffers::Pool,
        },
        pool_buffers: cli.pool_buffers,
    };
    testbed::run_step(
        env!("CARGO_PKG_NAME"),
        variant.variant,
        &cli.common,
        |workload: &Workload| fan_out(workload, options),
    )
}
