//! The echo server (Twisted style), run as the step's binary: it passes the testbed's echo
//! check (1,000 concurrent clients of 64 KiB, some vanishing halfway, then 8 MiB transfers past
//! the server's high-water mark), every byte checked.

use std::process::Command;

use testbed::ChildServer;

fn server(subcommand: &str) -> ChildServer {
    let mut command = Command::new(env!("CARGO_BIN_EXE_step04-callbacks"));
    command.arg(subcommand);
    ChildServer::start(command).expect("start the server")
}

/// The echo server returns every byte to every client, vanishing clients do not disturb it,
/// and transfers past its 1 MiB high-water mark do not stall it.
#[test]
fn echo_passes_the_echo_check() {
    let server = server("echo-server");
    let failures = testbed::echo_check::standard(server.addr());
    assert!(
        failures.is_empty(),
        "{} failures, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
}
