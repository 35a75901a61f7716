//! The step 2 binary end to end: its report carries the step's own counters.

use std::process::Command;

use testbed::RunReport;

/// A run prints a JSON report with `not_yet` and `passes`, and exits 0.
#[test]
fn reports_its_counters() {
    let out = Command::new(env!("CARGO_BIN_EXE_step02-nonblocking"))
        .args(["--connections", "10", "--delay-ms", "10", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: RunReport = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report.step.as_str(), report.variant.as_str(), report.ok),
        ("step02-nonblocking", "busy-wait", 10)
    );
    assert!(
        report.extra["not_yet"].as_u64().unwrap() > 0,
        "{:?}",
        report.extra
    );
    assert!(
        report.extra["passes"].as_u64().unwrap() > 0,
        "{:?}",
        report.extra
    );
}

/// A bad option is a usage error: exit status 2.
#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_step02-nonblocking"))
        .args(["--timeout-ms", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'soon'"));
}
