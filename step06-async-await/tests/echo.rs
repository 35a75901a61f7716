//! The async echo server, on both runtimes, run as the step's binary, passes the testbed's
//! echo check (1,000 concurrent clients, some vanishing; 8 MiB transfers; every byte checked).

use std::process::Command;

use testbed::ChildServer;

fn check(runtime: &str) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_step06-async-await"));
    command.args(["echo-server", "--runtime", runtime]);
    let server = ChildServer::start(command).expect("start the echo server");
    let failures = testbed::echo_check::standard(server.addr());
    assert!(
        failures.is_empty(),
        "{runtime}: {} failures, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
}

/// On our runtime.
#[test]
fn echo_on_our_runtime_passes_the_echo_check() {
    check("ours");
}

/// On tokio.
#[test]
fn echo_on_tokio_passes_the_echo_check() {
    check("tokio");
}
