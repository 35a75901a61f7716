//! The echo server of green threads, run as the step's binary, passes the testbed's echo
//! check: 1,000 concurrent clients of 64 KiB, some vanishing halfway, then 8 MiB transfers;
//! every byte checked, and the server still serving afterwards.

use std::process::Command;

use testbed::ChildServer;

/// Every byte back to every client.
#[test]
fn echo_passes_the_echo_check() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_step07-green-threads"));
    command.arg("echo-server");
    let server = ChildServer::start(command).expect("start the echo server");
    let failures = testbed::echo_check::standard(server.addr());
    assert!(
        failures.is_empty(),
        "{} failures, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
}
