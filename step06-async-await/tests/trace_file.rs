//! `--trace-file` on step 6: every connection is a task of its own, so the runtime's process
//! in the trace has a track per task (and one for the main future), each task polled at least
//! twice (its first poll, and after the wake its socket brought) and woken at least once, and
//! every wake of a task comes before a poll of it.

use std::process::Command;

#[test]
fn the_trace_file_has_a_track_per_task_with_its_polls_and_wakes() {
    let path = std::env::temp_dir().join(format!("step06-trace-{}.json", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_step06-async-await"))
        .args(["--connections", "20", "--delay-ms", "10", "--trace-file"])
        .arg(&path)
        .output()
        .expect("run the step 6 binary");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let trace = std::fs::read_to_string(&path).expect("the trace file");
    let _ = std::fs::remove_file(&path);
    let trace: serde_json::Value = serde_json::from_str(&trace).expect("JSON");
    let events = trace["traceEvents"].as_array().expect("traceEvents");
    let tracks = events
        .iter()
        .filter(|e| e["pid"] == 2 && e["name"] == "thread_name")
        .count();
    assert_eq!(tracks, 21, "20 tasks and the main future");
    // Spawn counts start at 0: tasks 0 to 19 are the connections.
    for task in 0..20u64 {
        let marks: Vec<(&str, u64)> = events
            .iter()
            .filter(|e| e["pid"] == 2 && e["tid"] == task && e["ph"] == "i")
            .map(|e| (e["name"].as_str().unwrap(), e["ts"].as_u64().unwrap()))
            .collect();
        let polls: Vec<u64> = marks
            .iter()
            .filter(|m| m.0 == "poll")
            .map(|m| m.1)
            .collect();
        let wakes: Vec<u64> = marks
            .iter()
            .filter(|m| m.0 == "wake")
            .map(|m| m.1)
            .collect();
        assert!(polls.len() >= 2, "task {task}: {marks:?}");
        assert!(!wakes.is_empty(), "task {task}: {marks:?}");
        assert!(
            wakes
                .iter()
                .all(|wake| polls.iter().any(|poll| poll >= wake)),
            "task {task}: a wake with no poll after it: {marks:?}"
        );
    }
}
