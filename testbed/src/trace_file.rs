//! `--trace-file FILE`: a run as Chrome trace-event JSON, the format Perfetto
//! (<https://ui.perfetto.dev>) and `chrome://tracing` open.
//!
//! The SVG and ASCII timelines draw a run at a glance; ten thousand connections are a grey
//! wall there. A trace viewer zooms: each connection is a track of its own (a "thread" of the
//! trace), with a span for each stage of its life, `connect`, `write`, `wait` (for the first
//! byte of the answer) and `read`, and an instant event where it failed, with the error. A
//! multi-threaded step (step 9) says on which worker each connection started and finished.
//!
//! Where the step's executor is step 5's (steps 5, 6 and 8), the trace has a second process,
//! the runtime, with a track per task and an instant event at each of its polls and at each
//! wake that queued it: [`mark`] is what the executor calls, and it records only while a
//! trace file is asked for.
//!
//! The format is a JSON object whose `traceEvents` are complete events (`"ph": "X"`, a start
//! `ts` and a `dur`, in microseconds), instant events (`"ph": "i"`), and metadata events
//! (`"ph": "M"`) that name the process and the tracks.

use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::{Value, json};

use crate::record::ConnectionResult;
use crate::report::RunReport;

/// The trace's process ids: the run (a track per connection), and the runtime (a track per
/// task).
const PID: u32 = 1;
const RUNTIME_PID: u32 = 2;

/// What happened to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// The executor polled it.
    Poll,
    /// A wake queued it.
    Wake,
}

/// Whether marks are being recorded (a trace file was asked for).
static RECORDING: AtomicBool = AtomicBool::new(false);

/// The marks recorded so far: when, what, and which task (`u64::MAX` for the main future).
static MARKS: Mutex<Vec<(Instant, Mark, u64)>> = Mutex::new(Vec::new());

/// The start of the last [`RunClock`](crate::RunClock): time zero of the connections' times.
static ORIGIN: Mutex<Option<Instant>> = Mutex::new(None);

/// Starts recording marks (`run_step` does, when `--trace-file` is given).
pub fn start_recording() {
    RECORDING.store(true, Ordering::Relaxed);
}

/// Records `mark` for `task` (`None`: the main future), if recording. Cheap when not: one
/// atomic load.
pub fn mark(mark: Mark, task: Option<u64>) {
    if RECORDING.load(Ordering::Relaxed) {
        let now = Instant::now();
        crate::lock(&MARKS).push((now, mark, task.unwrap_or(u64::MAX)));
    }
}

/// Notes the run's time zero (`RunClock::start` calls it).
pub(crate) fn set_origin(at: Instant) {
    *crate::lock(&ORIGIN) = Some(at);
}

/// The recorded marks as events of the runtime's process.
fn runtime_events() -> Vec<Value> {
    let marks = std::mem::take(&mut *crate::lock(&MARKS));
    let Some(origin) = *crate::lock(&ORIGIN) else {
        return Vec::new();
    };
    if marks.is_empty() {
        return Vec::new();
    }
    let mut events = vec![json!({
        "ph": "M", "name": "process_name", "pid": RUNTIME_PID,
        "args": { "name": "runtime: a track per task, its polls and wakes" },
    })];
    let mut named = std::collections::BTreeSet::new();
    for (at, mark, task) in marks {
        if named.insert(task) {
            let name = match task {
                u64::MAX => "main future".to_string(),
                task => format!("task {task}"),
            };
            events.push(json!({
                "ph": "M", "name": "thread_name", "pid": RUNTIME_PID, "tid": task,
                "args": { "name": name },
            }));
        }
        let name = match mark {
            Mark::Poll => "poll",
            Mark::Wake => "wake",
        };
        let ms = at.saturating_duration_since(origin).as_secs_f64() * 1e3;
        events.push(json!({
            "ph": "i", "s": "t", "name": name, "cat": "runtime", "pid": RUNTIME_PID,
            "tid": task, "ts": micros(ms),
        }));
    }
    events
}

/// The run as a Chrome trace: one track per connection, a span per stage.
pub fn chrome_trace(report: &RunReport) -> Value {
    let mut events = vec![json!({
        "ph": "M", "name": "process_name", "pid": PID,
        "args": { "name": format!("{}/{}: {} connections", report.step, report.variant, report.connections) },
    })];
    for result in &report.results {
        events.extend(connection_events(result));
    }
    events.extend(runtime_events());
    json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "step": report.step,
            "variant": report.variant,
            "ok": report.ok,
            "failed": report.failed,
            "wall_ms": report.wall_ms,
        },
    })
}

/// One connection's track: its name, and its stages as spans (and its failure as an instant).
fn connection_events(r: &ConnectionResult) -> Vec<Value> {
    let tid = r.id;
    let mut events = vec![json!({
        "ph": "M", "name": "thread_name", "pid": PID, "tid": tid,
        "args": { "name": format!("connection {}", r.id) },
    })];
    // The stages' boundaries, as far as the connection got: each stage runs from its start to
    // the next boundary that was reached (or to the end, for the last one reached).
    let stages = [
        ("connect", Some(r.start_ms)),
        ("write", r.connected_ms),
        ("wait", r.written_ms),
        ("read", r.first_byte_ms),
    ];
    let reached: Vec<(&str, f64)> = stages
        .iter()
        .filter_map(|(name, at)| at.map(|at| (*name, at)))
        .collect();
    for (i, (name, start)) in reached.iter().enumerate() {
        let end = reached
            .get(i + 1)
            .map_or(r.done_ms, |(_, next)| *next)
            .max(*start);
        let mut args = json!({ "id": r.id });
        if let Some(worker) = r.started_on.filter(|_| i == 0) {
            args["started_on_worker"] = worker.into();
        }
        if i + 1 == reached.len() {
            args["bytes"] = r.bytes.into();
            if let Some(worker) = r.finished_on {
                args["finished_on_worker"] = worker.into();
            }
        }
        events.push(json!({
            "ph": "X", "name": name, "cat": "connection", "pid": PID, "tid": tid,
            "ts": micros(*start), "dur": micros(end) - micros(*start), "args": args,
        }));
    }
    if let Some(error) = &r.error {
        events.push(json!({
            "ph": "i", "s": "t", "name": "failed", "cat": "connection", "pid": PID, "tid": tid,
            "ts": micros(r.done_ms), "args": { "error": error },
        }));
    }
    events
}

/// Milliseconds as whole microseconds, the format's unit.
fn micros(ms: f64) -> u64 {
    (ms * 1e3).round() as u64
}

/// Writes the run's Chrome trace to `path`; the error says which file could not be written.
pub fn write(report: &RunReport, path: &Path) -> io::Result<()> {
    let text = serde_json::to_string(&chrome_trace(report))
        .map_err(|e| io::Error::other(format!("cannot encode the trace: {e}")))?;
    std::fs::write(path, text).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot write the trace to {}: {e}", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::chrome_trace;
    use crate::record::ConnectionResult;
    use crate::report::RunReport;

    fn result(
        id: usize,
        times: [Option<f64>; 4],
        done_ms: f64,
        error: Option<&str>,
    ) -> ConnectionResult {
        ConnectionResult {
            id,
            ok: error.is_none(),
            start_ms: times[0].unwrap(),
            connected_ms: times[1],
            written_ms: times[2],
            first_byte_ms: times[3],
            done_ms,
            bytes: 97,
            error: error.map(String::from),
            started_on: None,
            finished_on: None,
        }
    }

    /// A connection that got its answer has four spans on its own track, one after the other;
    /// one refused at connect has a `connect` span and a `failed` instant with the error; the
    /// process and the tracks are named.
    #[test]
    fn every_connection_is_a_track_of_its_stages() {
        let report = RunReport {
            step: "step00".into(),
            variant: "test".into(),
            connections: 2,
            delay_ms: Some(50),
            addr: "127.0.0.1:1".into(),
            ok: 1,
            failed: 1,
            wall_ms: 60.0,
            cpu_user_ms: 1.0,
            cpu_sys_ms: 1.0,
            max_rss_kib: 1,
            extra: BTreeMap::new(),
            results: vec![
                result(0, [Some(0.0), Some(0.5), Some(0.6), Some(50.7)], 51.0, None),
                result(
                    1,
                    [Some(0.1), None, None, None],
                    0.3,
                    Some("connection refused"),
                ),
            ],
        };
        let trace = chrome_trace(&report);
        let events = trace["traceEvents"].as_array().unwrap();
        let on = |tid: u64, ph: &str| -> Vec<&serde_json::Value> {
            events
                .iter()
                .filter(|e| e["tid"] == tid && e["ph"] == ph)
                .collect()
        };
        assert!(events.iter().any(|e| e["name"] == "process_name"));
        assert_eq!(on(0, "M")[0]["args"]["name"], "connection 0");
        let spans: Vec<_> = on(0, "X")
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap(),
                    e["ts"].as_u64().unwrap(),
                    e["dur"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                ("connect", 0, 500),
                ("write", 500, 100),
                ("wait", 600, 50_100),
                ("read", 50_700, 300)
            ]
        );
        assert!(on(0, "i").is_empty(), "no failure on a good connection");
        let spans = on(1, "X");
        assert_eq!((spans.len(), &spans[0]["name"]), (1, &"connect".into()));
        let failed = on(1, "i");
        assert_eq!(failed[0]["args"]["error"], "connection refused");
        assert_eq!(failed[0]["ts"], 300);
    }
}
