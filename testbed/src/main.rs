//! The `testbed` binary: the delay server on its own, for curl, a browser, or the talk's Python
//! programs.
//!
//! ```text
//! cargo run -p testbed -- serve --delay-ms 50
//! curl -i http://127.0.0.1:PORT/delay/200
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use testbed::child::{ServeArgs, bind_announce_and_serve};

/// The local world the steps talk to.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the delay server until interrupted. Prints `listening on HOST:PORT` first.
    ///
    /// Paths: /delay/{ms}, / (the default delay), /chaos/reset, /chaos/hang, /chaos/drip,
    /// /chaos/short, /chaos/huge.
    Serve(ServeArgs),
}

fn main() -> ExitCode {
    // The testbed binary can be the embedded server of the tests, like every step binary.
    testbed::serve_if_child();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            match testbed::limits::raise_to_hard_limit() {
                Ok(Some(raised)) => eprintln!("testbed: {raised}"),
                Ok(None) => {}
                Err(e) => eprintln!("testbed: warning: {e}"),
            }
            match bind_announce_and_serve(&args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("testbed: error: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}
