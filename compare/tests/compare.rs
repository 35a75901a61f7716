//! `compare` end to end at a small size: a row for every variant, each with every connection
//! ok; a variant that cannot run says why; echo mode checks its bytes.

use std::process::{Command, Output};

use serde_json::Value;

fn compare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compare"))
        .args(args)
        .output()
        .expect("run compare")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

/// Five connections, 1 ms delay: every known variant has a row, and every row ran all five
/// connections successfully.
#[test]
fn every_variant_runs_a_small_workload() {
    let report = json(&compare(&[
        "--connections",
        "5",
        "--delay-ms",
        "1",
        "--json",
    ]));
    assert_eq!(
        (report["connections"].as_u64(), report["delay_ms"].as_u64()),
        (Some(5), Some(1))
    );
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), compare::steps::all().len());
    for row in rows {
        assert!(row["skipped"].is_null(), "{row}");
        assert_eq!(row["ok"].as_u64(), Some(5), "{row}");
        assert_eq!(row["failed"].as_u64(), Some(0), "{row}");
        for field in ["wall_ms", "cpu_user_ms", "cpu_sys_ms", "max_rss_kib"] {
            assert!(row[field].is_number(), "{field} in {row}");
        }
    }
}

/// A variant that cannot run the size is a row that says why, not a number and not a crash:
/// select past FD_SETSIZE, sequential past the time budget.
#[test]
fn skipped_rows_carry_their_reason() {
    let out = compare(&[
        "--connections",
        "1100",
        "--steps",
        "step03-select/select",
        "--json",
    ]);
    let rows = json(&out)["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0]["skipped"].as_str().unwrap().contains("FD_SETSIZE"),
        "{}",
        rows[0]
    );
    assert!(rows[0]["wall_ms"].is_null());

    let out = compare(&[
        "--connections",
        "3",
        "--delay-ms",
        "1000",
        "--budget-s",
        "2",
        "--steps",
        "sequential",
        "--json",
    ]);
    let rows = json(&out)["rows"].as_array().unwrap().clone();
    assert!(
        rows[0]["skipped"].as_str().unwrap().contains("budget"),
        "{}",
        rows[0]
    );
}

/// An unknown step is a usage error that lists the known ones.
#[test]
fn unknown_steps_are_usage_errors() {
    let out = compare(&["--steps", "step99"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known: step01-blocking/sequential"));
}

/// Echo mode: every message comes back byte for byte.
#[test]
fn echo_checks_every_byte() {
    let report = json(&compare(&[
        "echo",
        "--connections",
        "4",
        "--messages",
        "10",
        "--size",
        "100",
        "--json",
    ]));
    for row in report["rows"].as_array().unwrap() {
        assert_eq!(row["errors"].as_u64(), Some(0), "{row}");
        assert_eq!(row["bytes_verified"].as_u64(), Some(4 * 10 * 100), "{row}");
    }
}

/// The text table and the SVG chart are made.
#[test]
fn text_and_chart() {
    let dir = std::env::temp_dir().join(format!("compare-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("chart.svg");
    let out = compare(&[
        "--connections",
        "3",
        "--delay-ms",
        "1",
        "--steps",
        "poll,tokio",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("step03-select") && text.contains("poll") && text.contains("3/3"),
        "{text}"
    );
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(
        chart.starts_with("<svg") && chart.contains("tokio / current-thread"),
        "{chart}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
