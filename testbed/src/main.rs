//! The `testbed` binary: the delay server on its own, for curl, a browser, or the talk's Python
//! programs; and the timeline of a saved run.
//!
//! ```text
//! cargo run -p testbed -- serve --delay-ms 50
//! curl -i http://127.0.0.1:PORT/delay/200
//! cargo run -p step01-blocking -- --json | cargo run -p testbed -- timeline --svg > run.svg
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use testbed::RunReport;
use testbed::child::{ServeArgs, bind_announce_and_serve};
use testbed::timeline;

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
    /// Draw the timeline of a saved run: reads a step's `--json` report on stdin.
    ///
    /// Example: cargo run -p step01-blocking -- --json | cargo run -p testbed -- timeline --svg > run.svg
    Timeline(TimelineArgs),
}

#[derive(Debug, clap::Args)]
struct TimelineArgs {
    /// Print an SVG image instead of the ASCII drawing.
    #[arg(long)]
    svg: bool,
    /// The SVG's title [default: the report's step and variant].
    #[arg(long)]
    title: Option<String>,
    /// The ASCII drawing's width, in columns of time.
    #[arg(long, default_value_t = 64)]
    width: usize,
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
        Command::Timeline(args) => {
            match serde_json::from_reader::<_, RunReport>(std::io::stdin().lock()) {
                Ok(report) => {
                    if args.svg {
                        let title = args
                            .title
                            .unwrap_or_else(|| format!("{} ({})", report.step, report.variant));
                        print!("{}", timeline::svg(&report.results, &title));
                    } else {
                        print!("{}", timeline::ascii(&report.results, args.width));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!(
                        "testbed: error: stdin is not a run report (a step's --json output): {e}"
                    );
                    ExitCode::from(1)
                }
            }
        }
    }
}
