//! Graceful shutdown of the echo server, on our runtime and on tokio: SIGTERM in the middle of
//! its work.
//! The server stops accepting at once (a new client is refused), serves the connections in
//! flight until they end, closes the one still silent at the deadline (cleanly: the client
//! reads end-of-file), says how many were which, and exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server if the test fails half-way, so no process outlives it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One echo round trip on `stream`.
fn echo(stream: &mut TcpStream, message: &[u8]) {
    stream.write_all(message).unwrap();
    let mut back = vec![0; message.len()];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(back, message);
}

/// On our runtime: its `TaskGroup` and `Signals`.
#[test]
fn sigterm_lets_connections_in_flight_finish_and_cuts_the_rest_at_the_deadline() {
    shutdown_on("ours");
}

/// On tokio: a `JoinSet` and `tokio::signal`.
#[test]
fn on_tokio_too() {
    shutdown_on("tokio");
}

/// The whole scenario, with the server on `runtime`.
fn shutdown_on(runtime: &str) {
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_step06-async-await"))
            .args(["echo-server", "--addr", "127.0.0.1:0", "--grace-ms", "500"])
            .args(["--runtime", runtime])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the echo server"),
    );
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let mut next_line = || lines.next().expect("a line").expect("readable");
    let first = next_line();
    let addr = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();

    // Three connections in flight, each with one round trip done (so each is accepted): two
    // will go on after the signal, one stays silent.
    let mut going_on: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    let mut silent = TcpStream::connect(&addr).unwrap();
    for stream in going_on.iter_mut().chain([&mut silent]) {
        echo(stream, b"before");
    }

    let signalled = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    assert_eq!(
        next_line(),
        "stopped accepting: 3 connections in flight, waiting up to 500 ms for them"
    );

    // New clients are refused: the listener is closed.
    let refused = TcpStream::connect(&addr).expect_err("the listener is closed");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    // The connections in flight are still served, to their end.
    for stream in &mut going_on {
        echo(stream, b"after the signal");
        stream.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }
    // The silent one is closed at the deadline, cleanly: end-of-file, not a reset.
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    assert_eq!(silent.read_to_end(&mut rest).unwrap(), 0);
    let closed_after = signalled.elapsed();
    assert!(
        closed_after >= Duration::from_millis(500),
        "{closed_after:?}"
    );

    assert_eq!(
        next_line(),
        "shut down: 2 connections finished within 500 ms, 1 cut"
    );
    let status = testbed::faults::within(Duration::from_secs(10), "the server's exit", move || {
        server.0.wait().expect("wait for the server")
    });
    assert!(status.success(), "{status}");
}
