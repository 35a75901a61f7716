//! The ring counts its own `io_uring_enter` calls (the report's `io_uring_enter`), and the
//! book's system call figures come from `strace -c`: the two must agree. The binary is run
//! under `strace -f -c`, and its report's count is checked against strace's. (Skipped, saying
//! why, where strace is missing or io_uring is not allowed.)

use std::process::Command;

use step08_io_uring::io_uring_here;

/// The calls strace's table gives for `syscall`, or 0 if it has no row.
fn strace_calls(table: &str, syscall: &str) -> u64 {
    table
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|fields| fields.last() == Some(&syscall))
        .and_then(|fields| fields.get(3)?.parse().ok())
        .unwrap_or(0)
}

/// The number after `"field":` in the one-line JSON report.
fn report_field(report: &str, field: &str) -> u64 {
    let key = format!("\"{field}\":");
    let at = report
        .find(&key)
        .unwrap_or_else(|| panic!("no {field} in {report}"))
        + key.len();
    let digits: String = report[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("{field} is not a number in {report}"))
}

/// 200 connections under strace: the ring's own count of `io_uring_enter` calls is what the
/// kernel saw (more than usual: tracing slows every call, so fewer entries meet in each), give
/// or take the one or two the ring makes after the count is read (when it is
/// dropped, to hand over the last entries and wait for their completions).
#[test]
fn the_rings_count_of_enters_is_what_strace_counts() {
    if !io_uring_here("the_rings_count_of_enters_is_what_strace_counts") {
        return;
    }
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("skipped: strace is not installed (Debian: apt-get install strace)");
        return;
    }
    let table = std::env::temp_dir().join(format!("step08-strace-{}.txt", std::process::id()));
    let out = Command::new("strace")
        .args(["-f", "-c", "-q", "-o"])
        .arg(&table)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_step08-io-uring"))
        .args(["--connections", "200", "--json"])
        .output()
        .expect("run strace");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counted = std::fs::read_to_string(&table).expect("strace's table");
    let _ = std::fs::remove_file(&table);
    let report = String::from_utf8_lossy(&out.stdout);
    let ours = report_field(&report, "io_uring_enter");
    let kernels = strace_calls(&counted, "io_uring_enter");
    assert!(
        (ours..=ours + 2).contains(&kernels),
        "the ring counted {ours} io_uring_enter calls, strace {kernels}"
    );
    assert!(ours > 0, "the ring made no io_uring_enter call at all");
}
