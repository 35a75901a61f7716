//! The echo server on every core, on both runtimes, run as the step's binary, passes the
//! testbed's echo check (1,000 concurrent clients, some vanishing; 8 MiB transfers; every byte
//! checked), with two workers; ours also with one, and without the budget.

use std::process::Command;

use testbed::ChildServer;

fn check(args: &[&str]) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_step09-work-stealing"));
    command.arg("echo-server").args(args);
    let server = ChildServer::start(command).expect("start the echo server");
    let failures = testbed::echo_check::standard(server.addr());
    assert!(
        failures.is_empty(),
        "{args:?}: {} failures, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
}

/// On our runtime, two workers.
#[test]
fn echo_on_two_workers_passes_the_echo_check() {
    check(&["--workers", "2"]);
}

/// On our runtime, one worker (everything on one thread, as in step 6).
#[test]
fn echo_on_one_worker_passes_the_echo_check() {
    check(&["--workers", "1"]);
}

/// Without the budget: slower to be fair, but every byte still arrives.
#[test]
fn echo_without_the_budget_passes_the_echo_check() {
    check(&["--workers", "2", "--budget", "0"]);
}

/// On tokio's multi_thread runtime, two workers.
#[test]
fn echo_on_tokio_multi_thread_passes_the_echo_check() {
    check(&["--runtime", "tokio", "--workers", "2"]);
}
