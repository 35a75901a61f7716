//! Running every variant, each in its own process, against one shared delay server.
//!
//! The parent (`compare`) starts the delay server once, in a child process, and then, for each
//! variant and each repeat, re-runs its own executable with the hidden [`FAN_OUT_SUBCOMMAND`]. That
//! child runs one fan-out against the shared server and prints its run report as JSON; its CPU
//! time and peak memory are its own, measured the same way as the step binaries measure theirs.

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use testbed::{ConnectionResult, RunReport};

use crate::steps::{Plan, Variant};
use crate::syscalls::{self, Syscalls};

/// The hidden first argument that makes `compare` run one fan-out and print its report.
pub const FAN_OUT_SUBCOMMAND: &str = "__fan-out";

/// One row of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The step (or `tokio`).
    pub step: String,
    /// The variant.
    pub variant: String,
    /// Connections that succeeded (in the median run).
    pub ok: usize,
    /// Connections that failed (in the median run).
    pub failed: usize,
    /// Wall time of the median run.
    pub wall_ms: Option<f64>,
    /// The fastest run's wall time (with `--repeat`).
    pub wall_min_ms: Option<f64>,
    /// The slowest run's wall time (with `--repeat`).
    pub wall_max_ms: Option<f64>,
    /// User CPU time of the median run.
    pub cpu_user_ms: Option<f64>,
    /// System CPU time of the median run.
    pub cpu_sys_ms: Option<f64>,
    /// Peak resident memory of the median run's process.
    pub max_rss_kib: Option<u64>,
    /// Peak resident memory above what the process held just before the fan-out began, per
    /// connection.
    pub rss_per_connection_kib: Option<f64>,
    /// How many runs were made.
    pub runs: usize,
    /// The system calls of one more run, counted (with `--syscalls`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syscalls: Option<Syscalls>,
    /// Why the variant was not run (or why its runs produced no report), if so.
    pub skipped: Option<String>,
    /// The median run's connections, for the chart's timeline strips.
    #[serde(skip)]
    pub results: Vec<ConnectionResult>,
    /// Whether the variant was meant to run but its run broke (no report): `skipped` says how.
    #[serde(skip)]
    pub broken: bool,
}

impl Row {
    /// A row for a variant that was not run, with the reason.
    pub fn skipped(variant: &Variant, reason: String) -> Row {
        Row {
            step: variant.step.to_string(),
            variant: variant.variant.to_string(),
            ok: 0,
            failed: 0,
            wall_ms: None,
            wall_min_ms: None,
            wall_max_ms: None,
            cpu_user_ms: None,
            cpu_sys_ms: None,
            max_rss_kib: None,
            rss_per_connection_kib: None,
            runs: 0,
            syscalls: None,
            skipped: Some(reason),
            results: Vec::new(),
            broken: false,
        }
    }

    /// CPU time, user plus system.
    pub fn cpu_ms(&self) -> Option<f64> {
        Some(self.cpu_user_ms? + self.cpu_sys_ms?)
    }
}

/// Where a comparison runs: its executable (re-run for each fan-out) and the shared server.
#[derive(Debug, Clone)]
pub struct Runner<'a> {
    /// `compare` itself.
    pub exe: &'a Path,
    /// The shared delay server.
    pub server: SocketAddr,
    /// The plan every variant runs.
    pub plan: Plan,
    /// The per-connection deadline.
    pub timeout_ms: u64,
    /// Whether to count each variant's system calls, in one more run under `strace`.
    pub count_syscalls: bool,
}

impl Runner<'_> {
    /// Runs every variant `repeat` times (or skips it, saying why) and summarises each one's
    /// runs by their median wall time. The runs go in rounds, each round running every
    /// variant once, rather than each variant's repeats in a row, and each round starting one
    /// variant further down the list: what drifts during a comparison (the kernel's table of
    /// recently closed connections fills up, the server grows) then falls on every row alike,
    /// instead of on the rows that come last, or on the ones that come after a heavy one.
    pub fn rows(&self, variants: &[&Variant], repeat: usize) -> Vec<Row> {
        // Each variant's runs so far, or the row that ends it early (skipped, or broken).
        let mut runs: Vec<(Vec<RunReport>, Option<Row>)> = variants
            .iter()
            .map(|variant| {
                let skipped =
                    (variant.cannot_run)(&self.plan).map(|reason| Row::skipped(variant, reason));
                (Vec::new(), skipped)
            })
            .collect();
        let rounds = repeat.max(1);
        for round in 1..=rounds {
            for turn in 0..variants.len() {
                let i = (turn + round - 1) % variants.len();
                let (variant, (done, ended)) = (variants[i], &mut runs[i]);
                if ended.is_some() {
                    continue;
                }
                eprintln!("compare: {} (run {round} of {rounds}) ...", variant.name());
                match self.run_once(variant) {
                    Ok(report) => done.push(report),
                    Err(why) => {
                        *ended = Some(Row {
                            broken: true,
                            ..Row::skipped(variant, why)
                        });
                    }
                }
            }
        }
        let mut rows: Vec<Row> = variants
            .iter()
            .zip(runs)
            .map(|(variant, (done, ended))| match ended {
                Some(row) => row,
                None => self.summary(variant, done),
            })
            .collect();
        if self.count_syscalls {
            self.count(variants, &mut rows);
        }
        rows
    }

    /// Counts the system calls of one more run of every variant that ran. If a count fails
    /// (no `strace`, say), says why once and leaves the counts out.
    fn count(&self, variants: &[&Variant], rows: &mut [Row]) {
        let scratch = std::env::temp_dir().join(format!("compare-{}", std::process::id()));
        if let Err(e) = std::fs::create_dir_all(&scratch) {
            eprintln!(
                "compare: no system call counts: cannot create {}: {e}",
                scratch.display()
            );
            return;
        }
        for (variant, row) in variants.iter().zip(rows.iter_mut()) {
            if row.wall_ms.is_none() {
                continue;
            }
            eprintln!(
                "compare: {} (counting its system calls) ...",
                variant.name()
            );
            match syscalls::count(self.fan_out_command(variant), &scratch) {
                Ok(counts) => row.syscalls = Some(counts),
                Err(why) => {
                    eprintln!("compare: no system call counts: {why}");
                    break;
                }
            }
        }
        let _ = std::fs::remove_dir_all(&scratch);
    }

    /// The command that runs one fan-out of `variant` against the shared server.
    fn fan_out_command(&self, variant: &Variant) -> Command {
        let mut command = Command::new(self.exe);
        command
            .arg(FAN_OUT_SUBCOMMAND)
            .args(["--step", variant.step, "--variant", variant.variant])
            .args(["--connections", &self.plan.connections.to_string()])
            .args(["--delay-ms", &self.plan.delay_ms.to_string()])
            .args(["--timeout-ms", &self.timeout_ms.to_string()])
            .args(["--addr", &self.server.to_string()]);
        command
    }

    /// A variant's row: the median of its runs (by wall time), and their spread.
    fn summary(&self, variant: &Variant, mut runs: Vec<RunReport>) -> Row {
        runs.sort_by(|a, b| a.wall_ms.total_cmp(&b.wall_ms));
        let (wall_min_ms, wall_max_ms) = (runs[0].wall_ms, runs[runs.len() - 1].wall_ms);
        let count = runs.len();
        let median = runs.swap_remove(count / 2);
        let baseline = median
            .extra
            .get("baseline_rss_kib")
            .and_then(serde_json::Value::as_u64);
        let rss_per_connection_kib = baseline.map(|base| {
            median.max_rss_kib.saturating_sub(base) as f64 / self.plan.connections.max(1) as f64
        });
        Row {
            step: variant.step.to_string(),
            variant: variant.variant.to_string(),
            ok: median.ok,
            failed: median.failed,
            wall_ms: Some(median.wall_ms),
            wall_min_ms: Some(wall_min_ms),
            wall_max_ms: Some(wall_max_ms),
            cpu_user_ms: Some(median.cpu_user_ms),
            cpu_sys_ms: Some(median.cpu_sys_ms),
            max_rss_kib: Some(median.max_rss_kib),
            rss_per_connection_kib,
            runs: count,
            syscalls: None,
            skipped: None,
            results: median.results,
            broken: false,
        }
    }

    /// One fan-out of `variant` in a child process; its report, or why there is none.
    fn run_once(&self, variant: &Variant) -> Result<RunReport, String> {
        let mut child = self
            .fan_out_command(variant)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.exe.display()))?;
        // Read both pipes on threads, so a child that writes a lot never blocks on a full pipe
        // while we wait for it.
        let readers = [
            child.stdout.take().map(drain),
            child.stderr.take().map(drain),
        ];
        // Every connection has a deadline, so a run ends by itself; this bound is for bugs.
        let limit =
            self.plan.budget + Duration::from_millis(self.timeout_ms) + Duration::from_secs(60);
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if started.elapsed() > limit => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(format!("did not finish within {} s", limit.as_secs()));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => break Err(format!("cannot wait for the run: {e}")),
            }
        };
        let [stdout, stderr] = readers.map(|r| r.and_then(|r| r.join().ok()).unwrap_or_default());
        let status = status?;
        serde_json::from_str::<RunReport>(&stdout).map_err(|_| {
            let tail: String = stderr.lines().rev().take(3).collect::<Vec<_>>().join(" / ");
            format!("the run failed ({status}): {tail}")
        })
    }
}

/// Reads a pipe to its end on a thread.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}
