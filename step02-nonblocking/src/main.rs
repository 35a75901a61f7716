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
    testbed::run_step(
        env!("CARGO_PKG_NAME"),
        "busy-wait",
        &cli.common,
        |workload: &Workload| step02_nonblocking::busy_wait(workload),
    )
}
