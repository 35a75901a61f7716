//! The step 1 binary: the fan-out with blocking sockets.
//!
//! ```text
//! cargo run --release -p step01-blocking -- --connections 20 --timeline
//! cargo run --release -p step01-blocking -- --variant threads --connections 100 --timeline
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use testbed::{CommonOptions, Outcome, Workload};

/// Step 1: blocking sockets, one connection after another or one thread each.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// How to run the connections.
    #[arg(long, default_value = "sequential", value_parser = testbed::variants::parser(&step01_blocking::variants()))]
    variant: String,
    /// The stack size of each connection's thread, in KiB (variant `threads`).
    #[arg(long, value_name = "KIB", default_value_t = step01_blocking::STACK_SIZE / 1024,
          value_parser = testbed::cli::stack_kib())]
    stack_kib: usize,
    #[command(flatten)]
    common: CommonOptions,
}

fn main() -> ExitCode {
    testbed::serve_if_child();
    let cli = Cli::parse();
    let variant = testbed::variants::find(&step01_blocking::variants(), &cli.variant);
    testbed::run_step(
        env!("CARGO_PKG_NAME"),
        variant.variant,
        &cli.common,
        |workload: &Workload| match variant.variant {
            // The one option of this binary: the threads' stack size.
            "threads" => {
                let mut outcome =
                    Outcome::from(step01_blocking::threads(workload, cli.stack_kib * 1024));
                outcome
                    .extra
                    .insert("stack_kib".into(), cli.stack_kib.into());
                outcome
            }
            _ => (variant.fan_out)(workload),
        },
    )
}
