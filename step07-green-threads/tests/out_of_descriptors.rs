//! The signal when the echo server is out of descriptors (testbed's `out_of_descriptors`
//! check). A file of its own: beside the graceful check's test, in the same process, its
//! server and clients would change that check's timing.

use std::process::Command;

/// The signal when the server is out of descriptors (testbed's check runs it under a limit of
/// 64 and connects until one client is no longer served): the accept loop still stops, and the
/// server exits 0 after the deadline. The stopper cannot connect to the server to wake the
/// loop (that needs a descriptor); it shuts the listener down instead.
#[test]
fn sigterm_stops_a_server_out_of_descriptors() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_step07-green-threads"));
    server.arg("echo-server");
    testbed::shutdown_check::out_of_descriptors(server).unwrap();
}
