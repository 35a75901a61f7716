//! Graceful shutdown of the echo server on every core, ours and tokio's multi-threaded one:
//! SIGTERM in the middle of its work (testbed's shutdown check). Our tasks have no `abort`, so
//! the silent connection is cut by a cancellation token its own task waits on; the check sees
//! it closed cleanly at the deadline, and the others served to their end.

use std::process::Command;

/// The step's `echo-server` on `runtime`, two workers.
fn echo_server(runtime: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_step09-work-stealing"));
    command.args(["echo-server", "--runtime", runtime, "--workers", "2"]);
    command
}

#[test]
fn sigterm_lets_connections_in_flight_finish_and_cuts_the_rest_at_the_deadline() {
    testbed::shutdown_check::graceful(echo_server("ours")).unwrap();
}

#[test]
fn on_tokio_too() {
    testbed::shutdown_check::graceful(echo_server("tokio")).unwrap();
}
