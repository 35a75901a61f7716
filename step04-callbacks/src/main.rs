//! The step 4 binary: the fan-out as callbacks, and the talk's two servers.
//!
//! ```text
//! cargo run --release -p step04-callbacks -- --timeline
//! cargo run --release -p step04-callbacks -- hello-server --addr 127.0.0.1:8000
//! cargo run --release -p step04-callbacks -- echo-server --addr 127.0.0.1:8001
//! ```
#![forbid(unsafe_code)]

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use step04_callbacks::IoLoop;
use testbed::cli::ServerOptions;
use testbed::{CommonOptions, Workload};

/// Step 4: a callback framework on mio; the fan-out as chains of callbacks.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    server: Option<Server>,
    #[command(flatten)]
    common: CommonOptions,
}

/// The servers of this step. Each prints `listening on HOST:PORT` first and serves until
/// killed.
#[derive(Debug, Subcommand)]
enum Server {
    /// Tornado style: greet every client with "Hello" and close.
    HelloServer(ServerOptions),
    /// Twisted style: echo every byte back.
    EchoServer(ServerOptions),
}

fn main() -> ExitCode {
    testbed::serve_if_child();
    let cli = Cli::parse();
    match cli.server {
        None => {
            let [variant] = step04_callbacks::variants()[..] else {
                unreachable!("step 4 has one fan-out")
            };
            testbed::run_step(
                env!("CARGO_PKG_NAME"),
                variant.variant,
                &cli.common,
                |workload: &Workload| (variant.fan_out)(workload),
            )
        }
        Some(server) => testbed::cli::run_server(env!("CARGO_PKG_NAME"), || serve(server)),
    }
}

/// Runs one of the servers until the process is killed.
fn serve(server: Server) -> io::Result<()> {
    let io_loop = IoLoop::new()?;
    let addr = match server {
        Server::HelloServer(server) => {
            step04_callbacks::hello::hello_server(&io_loop, server.addr)?
        }
        Server::EchoServer(server) => step04_callbacks::protocol::listen_tcp(
            &io_loop,
            server.addr,
            step04_callbacks::echo::EchoFactory,
        )?,
    };
    testbed::child::announce(addr)?;
    io_loop.run()
}
