//! The binary, as a reader runs it: output piped into a reader that stops early (`| head`)
//! ends the program quietly, with no "Broken pipe" panic and backtrace; `--trace-file` (an
//! option every step shares, from the testbed) writes a Chrome trace of the run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn a_reader_that_stops_early_ends_the_program_quietly() {
    // Hundreds of trace lines: far more than a pipe holds, so the program is still writing
    // when the reader goes away.
    let mut child = Command::new(env!("CARGO_BIN_EXE_step05-futures"))
        .args(["--connections", "300", "--delay-ms", "0", "--trace"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the step 5 binary");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here, as `head -n 1` exits.
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!first.is_empty(), "the program printed its first line");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        output.status.code(),
        Some(141),
        "the status of a program ended by SIGPIPE"
    );
}

/// `--trace-file FILE`: the run as a Chrome trace, a named track per connection with its four
/// stages, and the summary says where the file went. The runtime is a second process of the
/// trace, with an instant at each poll and each wake of a task; here every connection is a
/// future inside the main future, so there is one track, the main future's, polled once at
/// the start and again after the wakes the connections' sockets bring.
#[test]
fn trace_file_writes_a_track_per_connection() {
    let path = std::env::temp_dir().join(format!("step05-trace-{}.json", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_step05-futures"))
        .args(["--connections", "20", "--delay-ms", "10", "--trace-file"])
        .arg(&path)
        .output()
        .expect("run the step 5 binary");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("ui.perfetto.dev"));
    let trace = std::fs::read_to_string(&path).expect("the trace file");
    let _ = std::fs::remove_file(&path);
    let trace: serde_json::Value = serde_json::from_str(&trace).expect("JSON");
    let events = trace["traceEvents"].as_array().expect("traceEvents");
    let count = |pid: u64, ph: &str, name: &str| {
        events
            .iter()
            .filter(|e| e["pid"] == pid && e["ph"] == ph && e["name"] == name)
            .count()
    };
    // The run: a track per connection, four stages each, no failure.
    assert_eq!(count(1, "M", "thread_name"), 20, "a track per connection");
    for stage in ["connect", "write", "wait", "read"] {
        assert_eq!(count(1, "X", stage), 20, "{stage} spans");
    }
    assert_eq!(count(1, "i", "failed"), 0);
    // The runtime: the main future's track, its polls and its wakes.
    assert_eq!(count(2, "M", "thread_name"), 1, "the main future's track");
    assert!(
        count(2, "i", "poll") >= 2,
        "{} polls",
        count(2, "i", "poll")
    );
    assert!(
        count(2, "i", "wake") >= 2,
        "{} wakes",
        count(2, "i", "wake")
    );
}
