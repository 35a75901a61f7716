//! The first program of the talk: one blocking connect, then who we are connected to.
//!
//! ```text
//! cargo run -p step01-blocking --bin connect
//! cargo run -p step01-blocking --bin connect -- --addr example.com:80
//! ```
//!
//! Without `--addr` it connects to the embedded delay server, started on a thread here.
#![forbid(unsafe_code)]

use std::io;
use std::net::TcpStream;
use std::time::Instant;

use clap::Parser;
use testbed::ServerHandle;

/// A blocking connect.
#[derive(Debug, Parser)]
struct Args {
    /// Connect to this server instead of the embedded one.
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<String>,
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    // Keep the embedded server (if any) alive until the end of main.
    let (_server, addr) = match &args.addr {
        Some(addr) => (None, testbed::cli::resolve(addr)?),
        None => {
            let server = ServerHandle::start_default()?;
            let addr = server.addr();
            (Some(server), addr)
        }
    };

    // ANCHOR: connect
    let started = Instant::now();
    // Blocks until the TCP handshake is complete: one round trip to the server. Nothing else
    // can happen on this thread meanwhile.
    let stream = TcpStream::connect(addr)?;
    let waited = started.elapsed();
    println!("We are connected to {}", stream.peer_addr()?);
    // ANCHOR_END: connect
    println!(
        "(connect blocked this thread for {:.3} ms)",
        waited.as_secs_f64() * 1e3
    );
    Ok(())
}
