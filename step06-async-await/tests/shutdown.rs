//! Graceful shutdown of the echo server, on our runtime and on tokio: SIGTERM in the middle of
//! its work (testbed's shutdown check). The server stops accepting at once (a new client is
//! refused), serves the connections in flight until they end, closes the one still silent at
//! the deadline (cleanly: the client reads end-of-file), says how many were which, and exits 0.

use std::process::Command;

/// The step's `echo-server` on `runtime`.
fn echo_server(runtime: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_step06-async-await"));
    command.args(["echo-server", "--runtime", runtime]);
    command
}

/// On our runtime: its `TaskGroup` and `Signals`.
#[test]
fn sigterm_lets_connections_in_flight_finish_and_cuts_the_rest_at_the_deadline() {
    testbed::shutdown_check::graceful(echo_server("ours")).unwrap();
}

/// On tokio: a `JoinSet` and `tokio::signal`.
#[test]
fn on_tokio_too() {
    testbed::shutdown_check::graceful(echo_server("tokio")).unwrap();
}
