//! The run report: one per run, the same for every step, printed as text or as one JSON
//! object (`--json`). The book's appendix "The run report" documents every field.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use nix::sys::resource::{UsageWho, getrusage};
use serde::{Deserialize, Serialize};

use crate::record::ConnectionResult;

// ANCHOR: run_report
/// Everything a run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The step's crate name, e.g. `step03-select`.
    pub step: String,
    /// The variant run, e.g. `select`.
    pub variant: String,
    /// How many connections the run opened.
    pub connections: usize,
    /// The embedded server's delay; `None` (JSON `null`) against an external server.
    pub delay_ms: Option<u64>,
    /// The server's address.
    pub addr: String,
    /// Connections that got a complete `200`.
    pub ok: usize,
    /// Connections that failed.
    pub failed: usize,
    /// Wall-clock time of the fan-out.
    pub wall_ms: f64,
    /// CPU time this process spent in user mode during the fan-out.
    pub cpu_user_ms: f64,
    /// CPU time this process spent in the kernel during the fan-out.
    pub cpu_sys_ms: f64,
    /// This process's peak resident memory (the embedded server, in its own process, is not
    /// counted).
    pub max_rss_kib: u64,
    /// Fields of the step's own (step02 counts its "not yet" answers, for example).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
    /// One entry per connection, in id order.
    pub results: Vec<ConnectionResult>,
}
// ANCHOR_END: run_report

/// A fan-out's output: the per-connection results and any step-specific report fields.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// One result per connection, in any order (the report sorts them by id).
    pub results: Vec<ConnectionResult>,
    /// Extra report fields.
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl From<Vec<ConnectionResult>> for Outcome {
    fn from(results: Vec<ConnectionResult>) -> Outcome {
        Outcome {
            results,
            extra: BTreeMap::new(),
        }
    }
}

/// What ran: the report's identifying fields.
#[derive(Debug, Clone, Copy)]
pub struct RunInfo<'a> {
    /// The step's crate name.
    pub step: &'a str,
    /// The variant.
    pub variant: &'a str,
    /// The embedded server's delay, or `None` against an external server.
    pub delay_ms: Option<u64>,
    /// The server's address.
    pub addr: &'a str,
}

/// CPU time and peak memory of this process so far (`getrusage(RUSAGE_SELF)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourceUsage {
    /// User-mode CPU time, in milliseconds.
    pub user_ms: f64,
    /// Kernel-mode CPU time, in milliseconds.
    pub sys_ms: f64,
    /// Peak resident set size, in KiB.
    pub max_rss_kib: u64,
}

impl ResourceUsage {
    /// Reads this process's usage now.
    pub fn now() -> ResourceUsage {
        let Ok(usage) = getrusage(UsageWho::RUSAGE_SELF) else {
            // getrusage(RUSAGE_SELF) cannot fail on a valid `who`; report zeros if it ever does.
            return ResourceUsage {
                user_ms: 0.0,
                sys_ms: 0.0,
                max_rss_kib: 0,
            };
        };
        let ms = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 * 1e3 + tv.tv_usec() as f64 / 1e3;
        ResourceUsage {
            user_ms: ms(usage.user_time()),
            sys_ms: ms(usage.system_time()),
            max_rss_kib: peak_rss_kib(&usage),
        }
    }
}

/// The process's peak resident memory, in KiB.
///
/// On Linux this is `VmHWM` from `/proc/self/status`, not `ru_maxrss`: the kernel carries
/// `ru_maxrss` over `execve`, so a program started by `cargo run` would report cargo's own peak
/// (tens of MiB) instead of its own.
fn peak_rss_kib(usage: &nix::sys::resource::Usage) -> u64 {
    if let Ok(kib) = proc_status_kib("VmHWM") {
        return kib;
    }
    // Elsewhere, ru_maxrss: in KiB on Linux and the BSDs, in bytes on macOS.
    let rss_unit = if cfg!(target_os = "macos") { 1024 } else { 1 };
    usage.max_rss().max(0) as u64 / rss_unit
}

/// Reads a `kB` field of `/proc/self/status` (Linux), such as `VmRSS` (resident memory now),
/// `VmHWM` (its peak) or `VmSize` (address space).
pub fn proc_status_kib(field: &str) -> std::io::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot read /proc/self/status (Linux only): {e}"),
        )
    })?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no {field} in /proc/self/status")))
}

impl RunReport {
    /// Sorts the results by id and counts successes and failures.
    pub fn new(
        info: &RunInfo<'_>,
        outcome: Outcome,
        wall_ms: f64,
        before: ResourceUsage,
        after: ResourceUsage,
    ) -> RunReport {
        let Outcome { mut results, extra } = outcome;
        results.sort_by_key(|r| r.id);
        let ok = results.iter().filter(|r| r.ok).count();
        RunReport {
            step: info.step.to_string(),
            variant: info.variant.to_string(),
            connections: results.len(),
            delay_ms: info.delay_ms,
            addr: info.addr.to_string(),
            ok,
            failed: results.len() - ok,
            wall_ms,
            cpu_user_ms: after.user_ms - before.user_ms,
            cpu_sys_ms: after.sys_ms - before.sys_ms,
            max_rss_kib: after.max_rss_kib,
            extra,
            results,
        }
    }

    /// The human-readable summary: what ran, how long it took, what it cost, what failed.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let delay = match self.delay_ms {
            Some(ms) => format!(", server delay {ms} ms"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{} ({}): {} connections to {}{delay}",
            self.step, self.variant, self.connections, self.addr
        );
        let ratio = match self.delay_ms {
            Some(ms) if ms > 0 => format!(" = {:.1} x delay", self.wall_ms / ms as f64),
            _ => String::new(),
        };
        let _ = writeln!(out, "  ok {}, failed {}", self.ok, self.failed);
        let _ = writeln!(out, "  wall {:.1} ms{ratio}", self.wall_ms);
        let _ = writeln!(
            out,
            "  cpu  {:.1} ms user + {:.1} ms sys; peak RSS {} KiB",
            self.cpu_user_ms, self.cpu_sys_ms, self.max_rss_kib
        );
        for (key, value) in &self.extra {
            let _ = writeln!(out, "  {key}: {value}");
        }
        // Failures grouped by reason, so 1,000 refused connections take one line.
        let mut by_reason: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for result in self.results.iter().filter(|r| !r.ok) {
            by_reason
                .entry(result.error.as_deref().unwrap_or("unknown error"))
                .or_default()
                .push(result.id);
        }
        for (reason, ids) in by_reason {
            const SHOWN: usize = 8;
            let mut list: Vec<String> = ids.iter().take(SHOWN).map(|id| format!("#{id}")).collect();
            if ids.len() > SHOWN {
                list.push(format!("and {} more", ids.len() - SHOWN));
            }
            let _ = writeln!(out, "  failed: {reason} ({})", list.join(", "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: usize, error: Option<&str>) -> ConnectionResult {
        ConnectionResult {
            id,
            ok: error.is_none(),
            start_ms: 0.0,
            connected_ms: Some(0.1),
            written_ms: None,
            first_byte_ms: None,
            done_ms: 1.0,
            bytes: 0,
            error: error.map(str::to_string),
            started_on: None,
            finished_on: None,
        }
    }

    /// Results are sorted, counted, and survive a JSON round trip with extra fields.
    #[test]
    fn counts_sorts_and_round_trips() {
        let outcome = Outcome {
            results: vec![
                result(2, None),
                result(0, Some("connect: connection refused")),
                result(1, None),
            ],
            extra: BTreeMap::from([("spins".to_string(), serde_json::json!(42))]),
        };
        let usage = ResourceUsage {
            user_ms: 1.0,
            sys_ms: 2.0,
            max_rss_kib: 3,
        };
        let info = RunInfo {
            step: "stepXX",
            variant: "v",
            delay_ms: Some(50),
            addr: "127.0.0.1:1",
        };
        let report = RunReport::new(&info, outcome, 60.0, usage, usage);
        assert_eq!((report.ok, report.failed, report.connections), (2, 1, 3));
        assert_eq!(
            report.results.iter().map(|r| r.id).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains(r#""spins":42"#), "{json}");
        let back: RunReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
        let summary = report.summary();
        assert!(
            summary.contains("failed: connect: connection refused (#0)"),
            "{summary}"
        );
        assert!(summary.contains("1.2 x delay"), "{summary}");
    }

    /// CPU time only grows, and a live process has some resident memory.
    #[test]
    fn resource_usage_is_read() {
        let before = ResourceUsage::now();
        let mut x = 0u64;
        for i in 0..1_000_000u64 {
            x = std::hint::black_box(x.wrapping_add(i));
        }
        let after = ResourceUsage::now();
        assert!(after.user_ms + after.sys_ms >= before.user_ms + before.sys_ms);
        assert!(after.max_rss_kib > 0);
    }
}
