//! The step 5 binary: the fan-out with hand-written futures, three ways; and an echo server.
//!
//! ```text
//! cargo run --release -p step05-futures -- --timeline
//! cargo run --release -p step05-futures -- --variant unordered
//! cargo run --release -p step05-futures -- --connections 2 --trace
//! cargo run --release -p step05-futures -- echo-server --addr 127.0.0.1:8002
//! ```
#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use testbed::cli::ServerOptions;
use testbed::{CommonOptions, Workload};

/// Step 5: futures by hand, on a reactor and an executor of our own.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    server: Option<Server>,
    /// How the connections' futures are joined.
    #[arg(long, default_value = "state-machine", value_parser = testbed::variants::parser(&step05_futures::variants()))]
    variant: String,
    /// Print every step of every connection through the machinery (use with few connections).
    #[arg(long, conflicts_with = "json")]
    trace: bool,
    #[command(flatten)]
    common: CommonOptions,
}

/// The server of this step.
#[derive(Debug, Subcommand)]
enum Server {
    /// Echo every byte back: an accept loop spawning a task per connection.
    EchoServer(ServerOptions),
}

fn main() -> ExitCode {
    testbed::serve_if_child();
    let cli = Cli::parse();
    if let Some(Server::EchoServer(server)) = cli.server {
        return testbed::cli::run_server(env!("CARGO_PKG_NAME"), || {
            step05_futures::echo::echo_server(server.addr, testbed::child::announce)
        });
    }
    if cli.trace {
        step05_futures::trace::enable();
    }
    let variant = testbed::variants::find(&step05_futures::variants(), &cli.variant);
    let json = cli.common.json;
    testbed::run_step(
        env!("CARGO_PKG_NAME"),
        variant.variant,
        &cli.common,
        |workload: &Workload| match variant.variant {
            // `unordered` prints each connection as it finishes, unless the output is JSON.
            "unordered" => {
                let mut stdout = io::stdout();
                let progress = (!json).then_some(&mut stdout as &mut dyn Write);
                step05_futures::fan_out::unordered(workload, progress).into()
            }
            _ => (variant.fan_out)(workload),
        },
    )
}
