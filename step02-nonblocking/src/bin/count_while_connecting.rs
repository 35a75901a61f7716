//! The talk's second program: a connect that does not wait, and counting while it happens;
//! then a read that does not wait, and counting until the answer comes.
//!
//! ```text
//! cargo run -p step02-nonblocking --bin count_while_connecting
//! cargo run -p step02-nonblocking --bin count_while_connecting -- --addr example.com:80
//! cargo run -p step02-nonblocking --bin count_while_connecting -- --refused
//! ```
//!
//! Without `--addr` it connects to the embedded delay server, started on a thread here, then
//! sends `GET /` and counts again while the server takes its 50 ms. On loopback the handshake
//! takes microseconds, so there is little to count while connecting; a host across the
//! internet gives you a round trip's worth. `--refused` aims at a port where nothing listens.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use step02_nonblocking::count::{count_until_answer, count_while_connecting};
use testbed::ServerHandle;

/// Count while connecting.
#[derive(Debug, Parser)]
struct Args {
    /// Connect to this server instead of the embedded one.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "refused")]
    addr: Option<String>,
    /// Connect to a local port where nothing listens.
    #[arg(long)]
    refused: bool,
    /// Give up after this many milliseconds.
    #[arg(long, value_name = "T", default_value_t = 10_000)]
    timeout_ms: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut server = None;
    let addr = if args.refused {
        testbed::faults::refused_addr()
    } else if let Some(addr) = &args.addr {
        match testbed::cli::resolve(addr) {
            Ok(addr) => addr,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        match ServerHandle::start_default() {
            Ok(started) => server.insert(started).addr(),
            Err(e) => {
                eprintln!("error: cannot start the embedded server: {e}");
                return ExitCode::from(1);
            }
        }
    };
    let timeout = Duration::from_millis(args.timeout_ms);
    let mut stdout = std::io::stdout();
    let connected = match count_while_connecting(addr, timeout, &mut stdout) {
        Ok(connected) => connected,
        Err(e) => {
            eprintln!("error: connecting to {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "We are connected to {}, after counting to {}",
        connected.peer, connected.counted
    );
    let host = args.addr.unwrap_or_else(|| addr.to_string());
    let request = format!("GET / HTTP/1.0\r\nHost: {host}\r\n\r\n");
    match count_until_answer(&connected.socket, request.as_bytes(), timeout, &mut stdout) {
        Ok((bytes, counted)) => {
            println!("The answer ({bytes} bytes) arrived after counting to {counted}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: waiting for the answer from {addr}: {e}");
            ExitCode::from(1)
        }
    }
}
