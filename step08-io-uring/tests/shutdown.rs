//! Graceful shutdown of the ring's echo server: SIGTERM in the middle of its work (testbed's
//! shutdown check). The signal arrives as a completion of the ring; the grace period is a
//! timer of the ring; the silent connection's task is cancelled at the deadline, its receive
//! orphaned and cancelled on the ring, and its socket closed cleanly.

use std::process::Command;

#[test]
fn sigterm_lets_connections_in_flight_finish_and_cuts_the_rest_at_the_deadline() {
    if let Some(reason) = step08_io_uring::unavailable() {
        eprintln!("skipped: io_uring is not available here: {reason}");
        return;
    }
    let mut server = Command::new(env!("CARGO_BIN_EXE_step08-io-uring"));
    server.arg("echo-server");
    testbed::shutdown_check::graceful(server).unwrap();
}
