//! The signal when the echo server is out of descriptors (testbed's `out_of_descriptors`
//! check), on both runtimes. A file of its own: beside the graceful check's tests, in the
//! same process, its servers and clients would change that check's timing.

use std::process::Command;

fn echo_server(runtime: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_step09-work-stealing"));
    command.args(["echo-server", "--runtime", runtime, "--workers", "2"]);
    command
}

/// The signal when the server is out of descriptors (testbed's check runs it under a limit of
/// 64 and connects until one client is no longer served): the server still stops.
#[test]
fn sigterm_stops_a_server_out_of_descriptors() {
    testbed::shutdown_check::out_of_descriptors(echo_server("ours")).unwrap();
}

/// The same, on tokio.
#[test]
fn out_of_descriptors_on_tokio_too() {
    testbed::shutdown_check::out_of_descriptors(echo_server("tokio")).unwrap();
}
