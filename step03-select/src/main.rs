//! The step 3 binary: the fan-out on `select`, `poll` or `epoll`.
//!
//! ```text
//! cargo run --release -p step03-select -- --timeline
//! cargo run --release -p step03-select -- --variant epoll --connections 10000
//! ```
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use step03_select::{fan_out, poll::Poll, select::Select};
use testbed::{CommonOptions, Workload};

/// Step 3: one system call waits on all the sockets at once.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Which system call waits.
    #[arg(long, default_value = "select", value_parser = testbed::variants::parser(&step03_select::variants()))]
    variant: String,
    #[command(flatten)]
    common: CommonOptions,
}

fn main() -> ExitCode {
    testbed::serve_if_child();
    let cli = Cli::parse();
    let name = cli.variant.as_str();
    // select() cannot watch a descriptor numbered FD_SETSIZE or more: refuse now, before the
    // first socket is opened, rather than fail (or worse) in the middle.
    if name == "select"
        && let Err(e) = step03_select::select::check_capacity(cli.common.connections)
    {
        eprintln!("{}: error: {e}", env!("CARGO_PKG_NAME"));
        return ExitCode::from(1);
    }
    #[cfg(target_os = "linux")]
    let epoll = match name {
        "epoll" => match step03_select::epoll::Epoll::new() {
            Ok(epoll) => Some(epoll),
            Err(e) => {
                eprintln!(
                    "{}: error: cannot create an epoll instance: {e}",
                    env!("CARGO_PKG_NAME")
                );
                return ExitCode::from(1);
            }
        },
        _ => None,
    };
    let json = cli.common.json;
    testbed::run_step(
        env!("CARGO_PKG_NAME"),
        name,
        &cli.common,
        |workload: &Workload| {
            // The "fd N connected to ADDR" lines, as in the talk, unless the output is JSON.
            let mut stdout = std::io::stdout();
            let progress = (!json).then_some(&mut stdout as &mut dyn Write);
            match name {
                "select" => fan_out(workload, Select, progress),
                "poll" => fan_out(workload, Poll, progress),
                #[cfg(target_os = "linux")]
                "epoll" => match epoll {
                    Some(epoll) => fan_out(workload, epoll, progress),
                    None => unreachable!("created above for this variant"),
                },
                _ => unreachable!("--variant only lets this step's variants through"),
            }
        },
    )
}
