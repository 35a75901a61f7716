//! A graceful shutdown, watched from outside: this step's echo server (`echo-server
//! --grace-ms 1000`, in a process of its own) with three clients, then SIGTERM. Two clients go
//! on after the signal and finish; a new client is refused; the third, silent, is closed at the
//! deadline. The client's lines say when they happened, counted from the signal; the
//! server's are printed as they arrive.
//!
//! ```text
//! cargo run --release -p step06-async-await --bin shutdown
//! cargo run --release -p step06-async-await --bin shutdown -- --runtime tokio
//! ```
#![forbid(unsafe_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::Parser;

/// Watch the echo server shut down gracefully.
#[derive(Debug, Parser)]
struct Args {
    /// Which runtime runs the server: `ours` or `tokio`.
    #[arg(long, default_value = "ours", value_parser = ["ours", "tokio"])]
    runtime: String,
}

fn main() -> ExitCode {
    testbed::run::quiet_when_the_reader_stops_reading();
    let args = Args::parse();
    match watch(&args.runtime) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shutdown: error: {e}");
            ExitCode::from(1)
        }
    }
}

/// One echo round trip.
fn echo(stream: &mut TcpStream, message: &[u8]) -> io::Result<()> {
    stream.write_all(message)?;
    let mut back = vec![0; message.len()];
    stream.read_exact(&mut back)?;
    if back != message {
        return Err(io::Error::other("the echo differs from the message"));
    }
    Ok(())
}

fn watch(runtime: &str) -> io::Result<()> {
    // The step's own binary sits beside this one.
    let exe = std::env::current_exe()?.with_file_name("step06-async-await");
    let mut server = Command::new(&exe)
        .args(["echo-server", "--addr", "127.0.0.1:0", "--grace-ms", "1000"])
        .args(["--runtime", runtime])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot start {}: {e}", exe.display())))?;
    let mut lines = BufReader::new(server.stdout.take().expect("piped")).lines();
    let mut from_server = || -> io::Result<String> {
        let line = lines
            .next()
            .unwrap_or_else(|| Err(io::Error::other("the server ended early")))?;
        println!("{:>9} server: {line}", "");
        Ok(line)
    };
    let listening = from_server()?;
    let addr = listening
        .strip_prefix("listening on ")
        .ok_or_else(|| io::Error::other(format!("unexpected first line: {listening}")))?
        .to_string();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut client = TcpStream::connect(&addr)?;
        echo(&mut client, b"hello")?;
        clients.push(client);
    }
    println!("{:>9} clients 1, 2, 3: connected, one echo each", "");

    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()?;
    let signalled = Instant::now();
    let at = || format!("{:7.1} ms", signalled.elapsed().as_secs_f64() * 1e3);
    println!("{} SIGTERM sent to the server", at());
    from_server()?;
    match TcpStream::connect(&addr) {
        Err(e) => println!("{} a new client: {e}", at()),
        Ok(_) => println!(
            "{} a new client: accepted (the server has not stopped?)",
            at()
        ),
    }
    let mut silent = clients.pop().expect("three clients");
    for (i, client) in clients.iter_mut().enumerate() {
        echo(client, b"after the signal")?;
        client.shutdown(Shutdown::Write)?;
        let mut rest = Vec::new();
        client.read_to_end(&mut rest)?;
        println!(
            "{} client {}: echoed after the signal, closed its side, read end-of-file",
            at(),
            i + 1
        );
    }
    let mut rest = Vec::new();
    match silent.read_to_end(&mut rest) {
        Ok(_) => println!("{} client 3 (silent): end-of-file from the server", at()),
        Err(e) => println!("{} client 3 (silent): {e}", at()),
    }
    from_server()?;
    let status = server.wait()?;
    println!("{} server: exited, {status}", at());
    Ok(())
}
