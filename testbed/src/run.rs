//! What every step binary does around its fan-out: make room for the sockets, start the
//! embedded server (or resolve `--addr`), run, measure, report, and pick the exit status.
//!
//! A step's `main` is then a few lines:
//!
//! ```no_run
//! use clap::Parser;
//! use std::process::ExitCode;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     common: testbed::CommonOptions,
//! }
//!
//! fn main() -> ExitCode {
//!     testbed::serve_if_child(); // this binary is also the embedded server
//!     let cli = Cli::parse();
//!     testbed::run_step("stepNN-example", "only", &cli.common, |workload: &testbed::Workload| {
//!         // open workload.len() connections here
//!         Vec::<testbed::ConnectionResult>::new()
//!     })
//! }
//! ```

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use crate::child::{ChildServer, ServeArgs};
use crate::cli::{CommonOptions, resolve};
use crate::limits;
use crate::record::RunClock;
use crate::report::{Outcome, ResourceUsage, RunInfo, RunReport};
use crate::timeline;
use crate::trace_file;
use crate::workload::{Target, Workload};

/// The width of the `--timeline` drawing, in columns of time.
const TIMELINE_WIDTH: usize = 64;

/// Runs `fan_out` as the step binary `step` (variant `variant`) with the shared `options`,
/// prints the report and returns the exit status: success when every connection succeeded,
/// 1 when any failed or the run could not start.
pub fn run_step<O: Into<Outcome>>(
    step: &str,
    variant: &str,
    options: &CommonOptions,
    fan_out: impl FnOnce(&Workload) -> O,
) -> ExitCode {
    quiet_when_the_reader_stops_reading();
    if options.trace_file.is_some() {
        trace_file::start_recording();
    }
    match run(step, variant, options, fan_out) {
        Ok(report) => {
            if let Some(path) = &options.trace_file {
                if let Err(e) = trace_file::write(&report, path) {
                    eprintln!("{step}: error: {e}");
                    return ExitCode::from(1);
                }
                if !options.json {
                    println!(
                        "wrote {}: open it in https://ui.perfetto.dev or chrome://tracing",
                        path.display()
                    );
                }
            }
            if options.json {
                match serde_json::to_string(&report) {
                    Ok(json) => println!("{json}"),
                    Err(e) => eprintln!("{step}: error: cannot encode the report: {e}"),
                }
            } else {
                print!("{}", report.summary());
                if options.timeline {
                    println!();
                    print!("{}", timeline::ascii(&report.results, TIMELINE_WIDTH));
                }
            }
            if report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("{step}: error: {e}");
            ExitCode::from(1)
        }
    }
}

/// The run itself, with errors that stop it before any connection as `Err`.
pub fn run<O: Into<Outcome>>(
    step: &str,
    variant: &str,
    options: &CommonOptions,
    fan_out: impl FnOnce(&Workload) -> O,
) -> io::Result<RunReport> {
    // Room for one descriptor per connection (the server's live in its own process).
    if let Some(raised) = limits::ensure_open_files(limits::needed_for(options.connections))
        .map_err(io::Error::other)?
    {
        eprintln!("{step}: {raised}");
    }
    let (server, target) = match &options.addr {
        None => {
            let args = ServeArgs {
                addr: ([127, 0, 0, 1], 0).into(),
                delay_ms: options.delay_ms,
            };
            let server = ChildServer::spawn_self(&args)?;
            let target = Target::new(server.addr(), options.path_or_default(true));
            (Some(server), target)
        }
        Some(addr) => {
            let target = Target {
                addr: resolve(addr)?,
                host: addr.clone(),
                path: options.path_or_default(false),
            };
            (None, target)
        }
    };
    let timeout = Duration::from_millis(options.timeout_ms);
    let mut workload = Workload::uniform(target, options.connections, timeout);
    let before = ResourceUsage::now();
    workload.clock = RunClock::start();
    let outcome = fan_out(&workload).into();
    let wall_ms = workload.clock.elapsed_ms();
    let after = ResourceUsage::now();
    drop(server);
    let addr = workload
        .targets
        .first()
        .map(|t| t.addr.to_string())
        .unwrap_or_default();
    let delay_ms = options.addr.is_none().then_some(options.delay_ms);
    let info = RunInfo {
        step,
        variant,
        delay_ms,
        addr: &addr,
    };
    Ok(RunReport::new(&info, outcome, wall_ms, before, after))
}

/// Ends the program quietly when its output goes into a pipe whose reader has stopped reading
/// (`... | head`). Rust ignores the SIGPIPE signal that would end a C program there, so the
/// next `println!` fails with "Broken pipe" and panics, printing a panic message and a
/// backtrace about nothing that went wrong. This panic hook exits instead, with the status a
/// shell gives a program ended by SIGPIPE (128 + 13); every other panic is reported as before.
pub fn quiet_when_the_reader_stops_reading() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        report(info);
    }));
}
