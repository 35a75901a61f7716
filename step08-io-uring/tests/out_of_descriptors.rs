//! The signal when the echo server is out of descriptors (testbed's `out_of_descriptors`
//! check). A file of its own: beside the graceful check's test, in the same process, its
//! server and clients would change that check's timing.

use std::process::Command;

/// The signal when the server is out of descriptors (testbed's check runs it under a limit of
/// 64 and connects until one client is no longer served): the signal is a completion of the
/// ring, which needs no new descriptor, so the server stops as usual.
#[test]
fn sigterm_stops_a_server_out_of_descriptors() {
    if let Some(reason) = step08_io_uring::unavailable() {
        eprintln!("skipped: io_uring is not available here: {reason}");
        return;
    }
    let mut server = Command::new(env!("CARGO_BIN_EXE_step08-io-uring"));
    server.arg("echo-server");
    testbed::shutdown_check::out_of_descriptors(server).unwrap();
}
