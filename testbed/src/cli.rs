//! The options every step binary shares (the design's table), as a clap `Args` struct that
//! each binary flattens into its own parser.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use clap::builder::RangedU64ValueParser;

// ANCHOR: common_options
/// The shared options. A step binary embeds them with `#[command(flatten)]`.
#[derive(Debug, Clone, Args)]
pub struct CommonOptions {
    /// How many connections to open.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = parse_connections)]
    pub connections: usize,
    /// The server-side delay of the embedded server, in milliseconds.
    #[arg(long, value_name = "L", default_value_t = 50)]
    pub delay_ms: u64,
    /// Use an external server (any HTTP server) instead of the embedded one.
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// The request path [default: /delay/{L} on the embedded server, / on an external one].
    #[arg(long, value_name = "PATH", value_parser = parse_path)]
    pub path: Option<String>,
    /// The per-connection deadline, in milliseconds; a connection past it fails with
    /// "timed out".
    #[arg(long, value_name = "T", default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Print an ASCII timeline of the connections.
    #[arg(long)]
    pub timeline: bool,
    /// Print only the run report, as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write the run as a Chrome trace (JSON) to this file: a track per connection, a span
    /// per stage; open it in https://ui.perfetto.dev or chrome://tracing.
    #[arg(long, value_name = "FILE")]
    pub trace_file: Option<std::path::PathBuf>,
}
// ANCHOR_END: common_options

impl CommonOptions {
    /// The request path for a server: the user's, or the default for that server.
    pub fn path_or_default(&self, embedded: bool) -> String {
        match (&self.path, embedded) {
            (Some(path), _) => path.clone(),
            (None, true) => format!("/delay/{}", self.delay_ms),
            (None, false) => "/".to_string(),
        }
    }
}

/// `--addr`, the option of every step's server subcommands (`echo-server`, `hello-server`).
#[derive(Debug, Clone, Args)]
pub struct ServerOptions {
    /// Where to listen.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
}

/// Runs one of step `step`'s servers until it is killed: raises the open-file limit first (a
/// server may hold thousands of connections; a warning if it cannot), then `serve`. Its first
/// line on stdout is `listening on HOST:PORT` (`serve` says it with
/// [`announce`](crate::child::announce)). If `serve` fails: `STEP: error: ...` and exit 1.
pub fn run_server(step: &str, serve: impl FnOnce() -> io::Result<()>) -> ExitCode {
    if let Err(e) = crate::limits::raise_to_hard_limit() {
        eprintln!("{step}: warning: {e}");
    }
    match serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{step}: error: {e}");
            ExitCode::from(1)
        }
    }
}

/// The options of an echo server that shuts down gracefully: where to listen, and the grace
/// period.
#[derive(Debug, Clone, Args)]
pub struct GracefulServerOptions {
    /// `--addr`.
    #[command(flatten)]
    pub server: ServerOptions,
    /// On SIGINT or SIGTERM: stop accepting, give the connections in flight this long to
    /// finish, close the rest, say how many were which, and exit.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub grace_ms: u64,
}

/// How a graceful shutdown ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutDown {
    /// Connections that finished during the grace period.
    pub finished: usize,
    /// Connections still open at the deadline, and closed then.
    pub cut: usize,
}

/// What a graceful server calls with the number of connections in flight when it stops
/// accepting.
pub type Stopped = Box<dyn Fn(usize) + Send>;

/// Runs an echo server that shuts down gracefully on SIGINT or SIGTERM, as
/// [`run_server`] does, with the lines every step's server prints: `serve` gets the grace
/// period and a function to call with the number of connections in flight when it stops
/// accepting ("stopped accepting: ..."), and returns how they ended ("shut down: ...").
pub fn run_graceful_server(
    step: &str,
    grace_ms: u64,
    serve: impl FnOnce(Duration, Stopped) -> io::Result<ShutDown>,
) -> ExitCode {
    // The report goes to stdout, which may be a pipe whose reader is gone by then.
    crate::run::quiet_when_the_reader_stops_reading();
    run_server(step, || {
        let stopped = move |in_flight: usize| {
            println!(
                "stopped accepting: {in_flight} connections in flight, \
                 waiting up to {grace_ms} ms for them"
            );
            // The line must reach a reader that waits for it before the wait is over.
            let _ = io::Write::flush(&mut io::stdout());
        };
        let ended = serve(Duration::from_millis(grace_ms), Box::new(stopped))?;
        println!(
            "shut down: {} connections finished within {grace_ms} ms, {} cut",
            ended.finished, ended.cut
        );
        Ok(())
    })
}

/// The parser of `--limit K` (steps 6 and 7): at least one connection in flight.
pub fn at_least_one() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::<usize>::new().range(1..)
}

/// The parser of `--stack-kib` (steps 1 and 7): from 16 KiB (less cannot run a connection) to
/// 1 GiB.
pub fn stack_kib() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::<usize>::new().range(16..=1024 * 1024)
}

/// The name of a `--variant` value as the user types it (`threads`, `epoll`): what the report's
/// `variant` field holds.
pub fn variant_name<V: clap::ValueEnum>(variant: &V) -> String {
    variant
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// The most connections one run may ask for.
pub const MAX_CONNECTIONS: usize = 1_000_000;

fn parse_connections(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_CONNECTIONS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number from 1 to {MAX_CONNECTIONS}"
        )),
    }
}

fn parse_path(text: &str) -> Result<String, String> {
    if text.starts_with('/')
        && !text
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        Ok(text.to_string())
    } else {
        Err("a path starts with '/' and has no spaces".to_string())
    }
}

/// Resolves `HOST:PORT` (a name or an address) to one socket address, IPv4 first.
pub fn resolve(addr: &str) -> io::Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot resolve --addr {addr:?} (expected HOST:PORT): {e}"),
            )
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("--addr {addr:?} resolved to no address"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        common: CommonOptions,
    }

    /// The defaults are the design's, and bad values are usage errors.
    #[test]
    fn defaults_and_validation() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        let c = &cli.common;
        assert_eq!(
            (c.connections, c.delay_ms, c.timeout_ms, c.timeline, c.json),
            (100, 50, 10_000, false, false)
        );
        assert_eq!(c.path_or_default(true), "/delay/50");
        assert_eq!(c.path_or_default(false), "/");
        assert!(Cli::try_parse_from(["x", "--connections", "0"]).is_err());
        assert!(Cli::try_parse_from(["x", "--path", "no-slash"]).is_err());
        let custom =
            Cli::try_parse_from(["x", "--path", "/chaos/drip", "--delay-ms", "5"]).unwrap();
        assert_eq!(custom.common.path_or_default(true), "/chaos/drip");
    }

    /// Addresses and names resolve; nonsense says what was expected.
    #[test]
    fn resolves_addresses() {
        assert_eq!(
            resolve("127.0.0.1:8080").unwrap(),
            SocketAddr::from(([127, 0, 0, 1], 8080))
        );
        assert!(resolve("localhost:80").is_ok());
        let err = resolve("no-port-here").unwrap_err();
        assert!(err.to_string().contains("HOST:PORT"), "{err}");
    }
}
