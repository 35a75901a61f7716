//! select() and FD_SETSIZE: a run that would need a descriptor at or above the limit is
//! refused before any socket is opened, with an error that names the limit and the way out;
//! and a descriptor past the limit that turns up anyway fails its connection, never more.

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use nix::sys::select::FD_SETSIZE;
use step03_select::{fan_out, select::Select};
use testbed::{ServerConfig, ServerHandle, Target, Workload, limits};

/// `--connections 1100` with select: exit status 1 and the explanation, no panic, no run.
#[test]
fn the_binary_refuses_1100_connections_with_select() {
    let out = Command::new(env!("CARGO_BIN_EXE_step03-select"))
        .args(["--variant", "select", "--connections", "1100"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("FD_SETSIZE (1024)") && stderr.contains("--variant poll"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing was run: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// With more than FD_SETSIZE descriptors already open, every new socket's number is past the
/// limit: each connection fails with a clear message, and the fan-out returns normally.
#[test]
fn descriptors_past_the_limit_fail_their_connections() {
    limits::ensure_open_files(FD_SETSIZE as u64 + 200).expect("room for the filler sockets");
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    // Fill the low descriptor numbers.
    let filler: Vec<UdpSocket> = (0..FD_SETSIZE)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let target = Target::new(server.addr(), "/delay/0");
    let results = fan_out(
        &Workload::uniform(target, 3, Duration::from_secs(5)),
        Select,
        None,
    );
    drop(filler);
    assert_eq!(results.len(), 3);
    for r in &results {
        let error = r.error.as_deref().unwrap_or("");
        assert!(!r.ok && error.contains("at or above FD_SETSIZE"), "{r:?}");
    }
}
