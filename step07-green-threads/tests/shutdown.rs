//! Graceful shutdown of the green-thread echo server: SIGTERM in the middle of its work
//! (testbed's shutdown check). A green thread cannot be dropped like a task, so the server
//! shuts the silent connection's socket down at the deadline; the check sees it closed
//! cleanly, and the others served to their end.

use std::process::Command;

#[test]
fn sigterm_lets_connections_in_flight_finish_and_cuts_the_rest_at_the_deadline() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_step07-green-threads"));
    server.arg("echo-server");
    testbed::shutdown_check::graceful(server).unwrap();
}
