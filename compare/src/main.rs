//! The `compare` binary: every step on one workload, side by side.
//!
//! ```text
//! cargo run --release -p compare
//! cargo run --release -p compare -- --connections 10000 --steps poll,epoll,threads,tokio
//! cargo run --release -p compare -- --repeat 5 --markdown --svg compare.svg
//! cargo run --release -p compare -- echo --connections 50 --messages 200
//! ```
#![forbid(unsafe_code)]

use std::cell::Cell;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use compare::echo::{self, ECHO_SERVER_SUBCOMMAND, Load};
use compare::runner::{FAN_OUT_SUBCOMMAND, Runner};
use compare::steps::{self, Plan};
use compare::table::{Comparison, machine};
use testbed::{ChildServer, CommonOptions, ServeArgs};

/// Every step of "From blocking to async/await" on one workload, side by side.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    fan_out: FanOutArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load every echo server with the same connections and messages; check every byte.
    Echo(EchoArgs),
    /// Run one fan-out against --addr and print its report as JSON (used by compare itself).
    #[command(name = FAN_OUT_SUBCOMMAND, hide = true)]
    FanOut(FanOutOne),
    /// Run one echo server (used by compare itself).
    #[command(name = ECHO_SERVER_SUBCOMMAND, hide = true)]
    EchoServer {
        /// The server's name.
        name: String,
    },
}

/// The comparison of the fan-outs.
#[derive(Debug, Args)]
struct FanOutArgs {
    /// Connections per run.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    connections: usize,
    /// The server-side delay, in milliseconds.
    #[arg(long, value_name = "L", default_value_t = 50)]
    delay_ms: u64,
    /// Only these steps or variants (comma-separated: `step03-select`, `epoll`, `step01-blocking/threads`), and the floor, which every row is measured against.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    steps: Vec<String>,
    /// Runs per variant, in rounds (every variant once per round); the table shows the median
    /// run and the spread of wall times.
    #[arg(long, value_name = "R", default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100))]
    repeat: usize,
    /// Variants expected to take longer than this (sequential: N x delay) are skipped.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    budget_s: u64,
    /// The per-connection deadline, in milliseconds.
    #[arg(long, value_name = "T", default_value_t = 10_000)]
    timeout_ms: u64,
    /// Also count each variant's system calls, in one more run under `strace -f -c`.
    #[arg(long)]
    syscalls: bool,
    /// Print the comparison as one JSON object.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print the table in Markdown (for the book).
    #[arg(long)]
    markdown: bool,
    /// Also write a chart (wall, CPU, connections in progress) as SVG to this file.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

/// One fan-out, in a child process.
#[derive(Debug, Args)]
struct FanOutOne {
    #[arg(long)]
    step: String,
    #[arg(long)]
    variant: String,
    #[arg(long)]
    connections: usize,
    #[arg(long)]
    delay_ms: u64,
    #[arg(long)]
    timeout_ms: u64,
    #[arg(long)]
    addr: SocketAddr,
}

/// The echo load.
#[derive(Debug, Args)]
struct EchoArgs {
    /// Concurrent connections.
    #[arg(long, value_name = "C", default_value_t = 50)]
    connections: usize,
    /// Messages per connection.
    #[arg(long, value_name = "M", default_value_t = 100)]
    messages: usize,
    /// Bytes per message.
    #[arg(long, value_name = "S", default_value_t = 1024, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=16 << 20))]
    size: usize,
    /// Only these servers (comma-separated).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    servers: Vec<String>,
    /// Print the rows as JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    // compare is also the shared delay server, when re-run as one.
    testbed::serve_if_child();
    let cli = Cli::parse();
    match cli.command {
        None => compare_fan_outs(&cli.fan_out),
        Some(Command::Echo(args)) => compare_echo(&args),
        Some(Command::FanOut(one)) => fan_out_one(&one),
        Some(Command::EchoServer { name }) => echo_server(&name),
    }
}

/// The default command: the table of fan-outs.
fn compare_fan_outs(args: &FanOutArgs) -> ExitCode {
    let all = steps::all();
    if let Some(unknown) = args
        .steps
        .iter()
        .find(|f| !all.iter().any(|v| v.matches(f)))
    {
        let known: Vec<String> = all.iter().map(|v| v.name()).collect();
        eprintln!(
            "error: no step or variant named {unknown:?}; known: {}",
            known.join(", ")
        );
        return ExitCode::from(2);
    }
    let chosen: Vec<_> = all
        .iter()
        .filter(|v| {
            // The floor always runs: every row's CPU is measured against it.
            args.steps.is_empty() || v.step == "floor" || args.steps.iter().any(|f| v.matches(f))
        })
        .collect();
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return fail(&format!("cannot find my own executable: {e}")),
    };
    let serve = ServeArgs {
        addr: ([127, 0, 0, 1], 0).into(),
        delay_ms: args.delay_ms,
    };
    let server = match ChildServer::spawn_self(&serve) {
        Ok(server) => server,
        Err(e) => return fail(&format!("cannot start the delay server: {e}")),
    };
    let plan = Plan {
        connections: args.connections,
        delay_ms: args.delay_ms,
        budget: Duration::from_secs(args.budget_s),
    };
    let runner = Runner {
        exe: &exe,
        server: server.addr(),
        plan,
        timeout_ms: args.timeout_ms,
        count_syscalls: args.syscalls,
    };
    let rows = runner.rows(&chosen, args.repeat);
    drop(server);
    let comparison = Comparison {
        connections: args.connections,
        delay_ms: args.delay_ms,
        repeat: args.repeat,
        machine: machine(),
        rows,
    };
    if args.json {
        match serde_json::to_string(&comparison) {
            Ok(json) => println!("{json}"),
            Err(e) => return fail(&format!("cannot encode the comparison: {e}")),
        }
    } else if args.markdown {
        print!("{}", comparison.markdown());
    } else {
        print!("{}", comparison.text());
    }
    if let Some(path) = &args.svg
        && let Err(e) = std::fs::write(path, compare::chart::svg(&comparison))
    {
        return fail(&format!("cannot write {}: {e}", path.display()));
    }
    let all_good = comparison.rows.iter().all(|r| !r.broken && r.failed == 0);
    if all_good {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The hidden subcommand: one fan-out against the shared server, its report on stdout.
fn fan_out_one(one: &FanOutOne) -> ExitCode {
    let Some(variant) = steps::all()
        .into_iter()
        .find(|v| v.step == one.step && v.variant == one.variant)
    else {
        return fail(&format!("no variant {}/{}", one.step, one.variant));
    };
    let options = CommonOptions {
        connections: one.connections,
        delay_ms: one.delay_ms,
        addr: Some(one.addr.to_string()),
        path: Some(format!("/delay/{}", one.delay_ms)),
        timeout_ms: one.timeout_ms,
        timeline: false,
        json: true,
        trace_file: None,
    };
    // The memory the process holds just before the fan-out: what it costs beyond that is
    // the fan-out's.
    let baseline = Cell::new(None);
    let run = testbed::run::run(variant.step, variant.variant, &options, |workload| {
        baseline.set(testbed::report::proc_status_kib("VmRSS").ok());
        (variant.fan_out)(workload)
    });
    match run {
        Ok(mut report) => {
            report.delay_ms = Some(one.delay_ms);
            if let Some(kib) = baseline.get() {
                report.extra.insert("baseline_rss_kib".into(), kib.into());
            }
            match serde_json::to_string(&report) {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&format!("cannot encode the report: {e}")),
            }
        }
        Err(e) => fail(&e.to_string()),
    }
}

/// `compare echo`.
fn compare_echo(args: &EchoArgs) -> ExitCode {
    let all = echo::servers();
    if let Some(unknown) = args
        .servers
        .iter()
        .find(|s| !all.iter().any(|server| server.name == s.as_str()))
    {
        let known: Vec<&str> = all.iter().map(|s| s.name).collect();
        eprintln!(
            "error: no echo server named {unknown:?}; known: {}",
            known.join(", ")
        );
        return ExitCode::from(2);
    }
    if let Err(e) =
        testbed::limits::ensure_open_files(testbed::limits::needed_for(args.connections))
    {
        return fail(&e.to_string());
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return fail(&format!("cannot find my own executable: {e}")),
    };
    let load = Load {
        connections: args.connections,
        messages: args.messages,
        size: args.size,
    };
    let mut rows = Vec::new();
    for server in all
        .iter()
        .filter(|s| args.servers.is_empty() || args.servers.iter().any(|n| n == s.name))
    {
        eprintln!("compare: echo {} ...", server.name);
        match echo::run(&exe, server, load) {
            Ok(row) => rows.push(row),
            Err(e) => return fail(&format!("echo server {}: {e}", server.name)),
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "load": load, "machine": machine(), "rows": rows })
        );
    } else {
        print!("{}", echo::text(load, &rows));
    }
    if rows.iter().all(|r| r.errors == 0) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The hidden subcommand: run one echo server until the parent goes away.
fn echo_server(name: &str) -> ExitCode {
    testbed::child::exit_with_parent();
    if let Err(e) = testbed::limits::raise_to_hard_limit() {
        eprintln!("compare: warning: {e}");
    }
    let Some(server) = echo::servers().into_iter().find(|s| s.name == name) else {
        return fail(&format!("no echo server named {name:?}"));
    };
    match (server.serve)(([127, 0, 0, 1], 0).into()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("echo server {name}: {e}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("compare: error: {message}");
    ExitCode::from(1)
}
