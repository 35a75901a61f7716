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
    // The floor, which always runs, and the row asked for.
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["step"], "floor");
    assert!(
        rows[1]["skipped"].as_str().unwrap().contains("FD_SETSIZE"),
        "{}",
        rows[1]
    );
    assert!(rows[1]["wall_ms"].is_null());

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
        rows[1]["skipped"].as_str().unwrap().contains("budget"),
        "{}",
        rows[1]
    );
}

/// An unknown step is a usage error that lists the known ones.
#[test]
fn unknown_steps_are_usage_errors() {
    let out = compare(&["--steps", "step99"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("known: floor/bare-epoll, step01-blocking/sequential")
    );
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

/// The floor always runs, first, and every row's CPU is measured against it in the table.
#[test]
fn the_floor_is_every_comparisons_yardstick() {
    let out = compare(&["--connections", "20", "--steps", "epoll", "--markdown"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| ")).collect();
    assert!(rows[0].contains("CPU × floor"), "{table}");
    assert!(
        rows[1].starts_with("| floor | bare-epoll |") && rows[1].contains("| 1.00 |"),
        "{table}"
    );
    assert!(rows[2].starts_with("| step03-select | epoll |"), "{table}");
}

/// `--syscalls` counts each variant's system calls in one more run under strace, by kind: the
/// floor makes exactly a `socket` and a `connect` per connection, and step 8 hands its
/// operations to the kernel through far fewer calls than step 5. Skipped, saying so, only
/// where strace is missing.
#[test]
fn system_calls_are_counted_by_kind() {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("skipped: strace is not installed (Debian: apt-get install strace)");
        return;
    }
    let n = 50;
    let report = json(&compare(&[
        "--connections",
        &n.to_string(),
        "--steps",
        "step05-futures/state-machine,step08-io-uring/pool",
        "--syscalls",
        "--json",
    ]));
    let rows = report["rows"].as_array().unwrap();
    let calls = |step: &str, kind: &str| {
        let row = rows.iter().find(|r| r["step"] == step).unwrap();
        row["syscalls"][kind]
            .as_u64()
            .unwrap_or_else(|| panic!("{kind} in {row}"))
    };
    assert_eq!(calls("floor", "connect"), 2 * n);
    assert!(
        calls("floor", "failed") >= n,
        "a non-blocking connect fails with EINPROGRESS"
    );
    assert_eq!(calls("step05-futures", "connect"), 2 * n);
    assert!(calls("step08-io-uring", "total") < calls("step05-futures", "total") / 2);
    let text = String::from_utf8_lossy(
        &compare(&["--connections", "5", "--steps", "poll", "--syscalls"]).stdout,
    )
    .to_string();
    assert!(text.contains("system calls per connection"), "{text}");
}
