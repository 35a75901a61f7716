//! The step 1 binary end to end: embedded server in a child process, JSON report, exit status.

use std::process::Command;

use testbed::RunReport;
use testbed::faults::refused_addr;

fn step01(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_step01-blocking"))
        .args(args)
        .output()
        .expect("run step01-blocking")
}

/// Both variants run against the embedded server and print one JSON report on stdout.
#[test]
fn both_variants_report_json_and_exit_0() {
    for variant in ["sequential", "threads"] {
        let out = step01(&[
            "--variant",
            variant,
            "--connections",
            "5",
            "--delay-ms",
            "10",
            "--json",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: RunReport =
            serde_json::from_slice(&out.stdout).expect("stdout is one JSON report");
        assert_eq!(
            (report.step.as_str(), report.variant.as_str()),
            ("step01-blocking", variant)
        );
        assert_eq!(
            (
                report.connections,
                report.ok,
                report.failed,
                report.delay_ms
            ),
            (5, 5, 0, Some(10))
        );
    }
}

/// A run where connections fail exits with 1 and says why in the summary.
#[test]
fn failures_exit_1_and_are_explained() {
    let addr = refused_addr().to_string();
    let out = step01(&["--addr", &addr, "--connections", "2"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("failed: connect: connection refused (#0, #1)"),
        "{stdout}"
    );
}

/// The timeline is drawn on request.
#[test]
fn timeline_is_drawn() {
    let out = step01(&["--connections", "3", "--delay-ms", "5", "--timeline"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("timeline: 3 connections") && stdout.contains("legend:"),
        "{stdout}"
    );
}

/// A bad option is a usage error: exit status 2.
#[test]
fn usage_errors_exit_2() {
    assert_eq!(step01(&["--variant", "fibers"]).status.code(), Some(2));
    assert_eq!(step01(&["--connections", "0"]).status.code(), Some(2));
}
