//! What happened to each connection: its times, its byte count, and how it ended.
//!
//! A step starts a [`ConnectionRecord`] when a connection's connect begins
//! ([`Workload::record`](crate::Workload::record)), marks the moments as they happen, and
//! turns it into a [`ConnectionResult`] with [`ConnectionRecord::finish`]. The result is what
//! the run report, the timeline and the tests see.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::response::ResponseError;

/// Time zero of a run. All times in the report are milliseconds since it.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    /// When the run started.
    start: Instant,
}

impl RunClock {
    /// A clock whose time zero is now.
    pub fn start() -> RunClock {
        let start = Instant::now();
        // The runtime's marks in a trace file count from here too.
        crate::trace_file::set_origin(start);
        RunClock { start }
    }

    /// Milliseconds from time zero to `at` (0 for anything earlier).
    pub fn ms(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.start).as_secs_f64() * 1e3
    }

    /// Milliseconds from time zero to now.
    pub fn elapsed_ms(&self) -> f64 {
        self.ms(Instant::now())
    }
}

// ANCHOR: connection_result
/// The result of one connection, as the run report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionResult {
    /// The connection's number, from 0: its index in the workload's targets.
    pub id: usize,
    /// Whether a complete `200` response arrived.
    pub ok: bool,
    /// When its connect began.
    pub start_ms: f64,
    /// When the connection was established, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_ms: Option<f64>,
    /// When the last byte of the request was handed to the kernel, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_ms: Option<f64>,
    /// When the first byte of the response arrived, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_byte_ms: Option<f64>,
    /// When the connection ended, in success or failure.
    pub done_ms: f64,
    /// How many response bytes arrived (head and body).
    pub bytes: u64,
    /// Why it failed; `None` when `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// On a multi-threaded runtime (step 9): the worker thread its record was started on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<u16>,
    /// On a multi-threaded runtime: the worker thread that finished it (another one than
    /// `started_on` if its task was stolen, or woken onto another worker, meanwhile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<u16>,
}
// ANCHOR_END: connection_result

thread_local! {
    /// Which worker of a multi-threaded runtime this thread is, if it is one.
    static WORKER: Cell<Option<u16>> = const { Cell::new(None) };
}

/// Tells the records made on this thread which worker thread of a multi-threaded runtime it
/// is (step 9's workers call it when they start; its tokio side does through tokio's
/// `on_thread_start`). Records note it when they start and when they finish, so that the
/// timeline can show which worker ran which connection.
/// (Numbers past 65,535 are kept as 65,535: a record stays small.)
pub fn set_worker(worker: Option<usize>) {
    let worker = worker.map(|n| u16::try_from(n).unwrap_or(u16::MAX));
    WORKER.with(|current| current.set(worker));
}

/// The worker this thread is, if [`set_worker`] said so.
pub fn current_worker() -> Option<u16> {
    WORKER.try_with(Cell::get).ok().flatten()
}

impl ConnectionResult {
    /// A connection that failed before it started, for a step that could not even begin it
    /// (no thread, no descriptor).
    pub fn failed_at_start(clock: RunClock, id: usize, error: &FetchError) -> ConnectionResult {
        let now = clock.elapsed_ms();
        ConnectionResult {
            id,
            ok: false,
            start_ms: now,
            connected_ms: None,
            written_ms: None,
            first_byte_ms: None,
            done_ms: now,
            bytes: 0,
            error: Some(error.to_string()),
            started_on: current_worker(),
            finished_on: current_worker(),
        }
    }
}

// ANCHOR: stage
/// The stages of one connection, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Opening the socket and establishing the connection.
    Connect,
    /// Sending the request.
    Write,
    /// Receiving the response.
    Read,
}
// ANCHOR_END: stage

impl Stage {
    /// What the connection was doing, as a phrase: "connecting", ...
    fn doing(self) -> &'static str {
        match self {
            Stage::Connect => "connecting",
            Stage::Write => "writing the request",
            Stage::Read => "reading the response",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connect => "connect",
            Stage::Write => "write",
            Stage::Read => "read",
        })
    }
}

// ANCHOR: fetch_error
/// Why one connection failed.
#[derive(Debug)]
pub enum FetchError {
    /// A system call failed.
    Io {
        /// Which stage it was in.
        stage: Stage,
        /// The error the system returned.
        source: io::Error,
    },
    /// The per-connection deadline passed.
    TimedOut {
        /// Which stage it was in.
        stage: Stage,
        /// The deadline, counted from the start of the connect.
        after: Duration,
    },
    /// The response arrived but was not a complete `200`.
    Response(ResponseError),
    /// The step could not set the connection up at all (no thread could be spawned, say).
    Setup(String),
}
// ANCHOR_END: fetch_error

impl FetchError {
    /// An I/O error in `stage`.
    pub fn io(stage: Stage, source: io::Error) -> FetchError {
        FetchError::Io { stage, source }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Io { stage, source } => write!(f, "{stage}: {}", describe_io_error(source)),
            FetchError::TimedOut { stage, after } => {
                write!(
                    f,
                    "timed out after {} ms while {}",
                    after.as_millis(),
                    stage.doing()
                )
            }
            FetchError::Response(e) => e.fmt(f),
            FetchError::Setup(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for FetchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FetchError::Io { source, .. } => Some(source),
            FetchError::Response(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ResponseError> for FetchError {
    fn from(e: ResponseError) -> FetchError {
        FetchError::Response(e)
    }
}

/// A short, lowercase reason for the common network errors ("connection refused"), the
/// system's own message for the rest.
pub fn describe_io_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
        io::ErrorKind::ConnectionAborted => "connection aborted".into(),
        io::ErrorKind::BrokenPipe => "broken pipe (the server closed the connection)".into(),
        io::ErrorKind::TimedOut => "timed out".into(),
        _ => e.to_string(),
    }
}

// ANCHOR: connection_record
/// The record of one connection in progress: a step marks the moments as they happen.
#[derive(Debug, Clone)]
pub struct ConnectionRecord {
    /// The run's clock.
    clock: RunClock,
    /// The connection's number.
    id: usize,
    /// When its connect began.
    start: Instant,
    /// The per-connection timeout.
    timeout: Duration,
    /// When it was established.
    connected: Option<Instant>,
    /// When the request was fully written.
    written: Option<Instant>,
    /// When the first response byte arrived.
    first_byte: Option<Instant>,
    /// Response bytes so far.
    bytes: u64,
    /// The worker thread it started on, on a multi-threaded runtime.
    started_on: Option<u16>,
}
// ANCHOR_END: connection_record

impl ConnectionRecord {
    /// Starts the record of connection `id` now.
    pub fn start(clock: RunClock, id: usize, timeout: Duration) -> ConnectionRecord {
        ConnectionRecord {
            clock,
            id,
            start: Instant::now(),
            timeout,
            connected: None,
            written: None,
            first_byte: None,
            bytes: 0,
            started_on: current_worker(),
        }
    }

    /// The connection's number.
    pub fn id(&self) -> usize {
        self.id
    }

    /// The moment this connection must be done by: its start plus the timeout.
    pub fn deadline(&self) -> Instant {
        self.start + self.timeout
    }

    /// The time left before the deadline, or the `TimedOut` error if there is none.
    pub fn time_left(&self, stage: Stage) -> Result<Duration, FetchError> {
        match self.deadline().checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(self.timed_out(stage)),
        }
    }

    /// The stage the connection is in, judged from the moments marked so far: connecting
    /// until `connected`, writing until `written`, reading after that.
    pub fn stage_reached(&self) -> Stage {
        match (self.connected, self.written) {
            (None, _) => Stage::Connect,
            (Some(_), None) => Stage::Write,
            (Some(_), Some(_)) => Stage::Read,
        }
    }

    /// The error for a connection whose deadline has passed in `stage`.
    pub fn timed_out(&self, stage: Stage) -> FetchError {
        FetchError::TimedOut {
            stage,
            after: self.timeout,
        }
    }

    /// Marks the connection established.
    pub fn connected(&mut self) {
        self.connected.get_or_insert_with(Instant::now);
    }

    /// Marks the request fully written.
    pub fn written(&mut self) {
        self.written.get_or_insert_with(Instant::now);
    }

    /// Counts `n` response bytes that just arrived (the first ones mark the first byte).
    pub fn received(&mut self, n: usize) {
        if n > 0 {
            self.first_byte.get_or_insert_with(Instant::now);
            self.bytes += n as u64;
        }
    }

    /// Ends the record: now is the connection's `done` time.
    pub fn finish(self, outcome: Result<(), FetchError>) -> ConnectionResult {
        let ms = |at: Option<Instant>| at.map(|at| self.clock.ms(at));
        ConnectionResult {
            id: self.id,
            ok: outcome.is_ok(),
            start_ms: self.clock.ms(self.start),
            connected_ms: ms(self.connected),
            written_ms: ms(self.written),
            first_byte_ms: ms(self.first_byte),
            done_ms: self.clock.elapsed_ms(),
            bytes: self.bytes,
            error: outcome.err().map(|e| e.to_string()),
            started_on: self.started_on,
            finished_on: current_worker(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The marks come out in order, and a failure carries its message.
    #[test]
    fn a_record_becomes_a_result() {
        let clock = RunClock::start();
        let mut record = ConnectionRecord::start(clock, 3, Duration::from_secs(1));
        record.connected();
        record.written();
        record.received(0);
        record.received(10);
        record.received(5);
        let result = record.finish(Err(FetchError::io(
            Stage::Read,
            io::ErrorKind::ConnectionReset.into(),
        )));
        assert_eq!(result.id, 3);
        assert!(!result.ok);
        assert_eq!(result.bytes, 15);
        let (c, w, f) = (
            result.connected_ms.unwrap(),
            result.written_ms.unwrap(),
            result.first_byte_ms.unwrap(),
        );
        assert!(result.start_ms <= c && c <= w && w <= f && f <= result.done_ms);
        assert_eq!(
            result.error.as_deref(),
            Some("read: connection reset by peer")
        );
    }

    /// A zero timeout has no time left and says so.
    #[test]
    fn time_left_runs_out() {
        let record = ConnectionRecord::start(RunClock::start(), 0, Duration::ZERO);
        let err = record.time_left(Stage::Connect).unwrap_err();
        assert_eq!(err.to_string(), "timed out after 0 ms while connecting");
    }
}
