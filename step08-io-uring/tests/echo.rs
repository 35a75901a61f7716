//! The echo server on the ring, run as the step's binary, passes the testbed's echo check
//! (1,000 concurrent clients, some vanishing halfway; 8 MiB transfers; every byte checked).

use std::process::Command;

use step08_io_uring::io_uring_here;
use testbed::ChildServer;

#[test]
fn echo_on_the_ring_passes_the_echo_check() {
    if !io_uring_here("echo_on_the_ring_passes_the_echo_check") {
        return;
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_step08-io-uring"));
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
