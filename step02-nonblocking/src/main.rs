//! The step 2 binary: the fan-out with non-blocking sockets and busy-waiting.
//!
//! ```text
//! cargo run --release -p step02-nonblocking -- --connections 100 --timeline
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use testbed::{CommonOptions, Workload};

/// Step 2: non-blocking sockets, visited in turn until all are done (busy-waiting).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonOptions,
}

fn main() -> ExitCode {
    testbed::serve_if_child();
    let cli = Cli::parse();
    let [variant] = step02_nonblocking::variants()[..] else {
        unreachable!("step 2 has one fan-out")
    };
    testbed::run_step(
        env!("CARGO_PKG_NAME"),
        variant.variant,
        &cli.common,
        |workload: &Workload| (variant.fan_out)(workload),
    )
}
