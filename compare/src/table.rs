//! The comparison as a table: plain text for the terminal, Markdown for the book, JSON for
//! programs.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::runner::Row;

/// A whole comparison: what was run, where, and the rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Connections per run.
    pub connections: usize,
    /// The server's delay.
    pub delay_ms: u64,
    /// Runs per variant (the rows show the median).
    pub repeat: usize,
    /// The machine, in a few words.
    pub machine: String,
    /// One row per variant.
    pub rows: Vec<Row>,
}

/// One row, ready to print: the cells of a row that ran, or why it did not.
enum Line<'a> {
    /// One cell per column of [`Comparison::columns`].
    Ran(Vec<String>),
    /// step, variant, and the reason.
    Skipped(&'a str, &'a str, &'a str),
}

/// A column: its heading in the terminal, its heading in Markdown, its width in the terminal
/// (negative: left-aligned).
type Column = (&'static str, &'static str, i32);

impl Comparison {
    /// The floor's CPU time, if the floor ran: what every row's CPU is measured against.
    pub fn floor_cpu_ms(&self) -> Option<f64> {
        self.rows
            .iter()
            .find(|row| row.step == "floor")
            .and_then(Row::cpu_ms)
    }

    /// Whether any row has its system calls counted (`--syscalls`).
    fn counted(&self) -> bool {
        self.rows.iter().any(|row| row.syscalls.is_some())
    }

    /// The columns, with the system calls' only when they were counted.
    fn columns(&self) -> Vec<Column> {
        let mut columns = vec![
            ("step", "step", -20),
            ("variant", "variant", -15),
            ("wall ms", "wall (ms)", 24),
            ("x delay", "× delay", 8),
            ("cpu ms", "CPU (ms)", 9),
            ("us/conn", "CPU per connection (µs)", 8),
            ("x floor", "CPU × floor", 8),
            ("RSS MiB", "peak RSS (MiB)", 8),
            ("KiB/conn", "RSS per connection (KiB)", 9),
        ];
        if self.counted() {
            columns.push(("calls/conn", "system calls per connection", 11));
        }
        columns.push(("ok/N", "ok", 11));
        columns
    }

    /// A row's cells, formatted.
    fn line<'a>(&self, row: &'a Row) -> Line<'a> {
        let (Some(wall), Some(cpu), Some(rss)) = (row.wall_ms, row.cpu_ms(), row.max_rss_kib)
        else {
            return Line::Skipped(
                &row.step,
                &row.variant,
                row.skipped.as_deref().unwrap_or("not run"),
            );
        };
        let spread = match (row.wall_min_ms, row.wall_max_ms) {
            (Some(min), Some(max)) if row.runs > 1 => format!(" ({min:.1}-{max:.1})"),
            _ => String::new(),
        };
        let n = self.connections.max(1) as f64;
        let mut cells = vec![
            row.step.clone(),
            row.variant.clone(),
            format!("{wall:.1}{spread}"),
            if self.delay_ms > 0 {
                format!("{:.2}", wall / self.delay_ms as f64)
            } else {
                "-".into()
            },
            format!("{cpu:.1}"),
            format!("{:.1}", cpu * 1e3 / n),
            self.floor_cpu_ms()
                .filter(|floor| *floor > 0.0)
                .map_or("-".into(), |floor| format!("{:.2}", cpu / floor)),
            format!("{:.1}", rss as f64 / 1024.0),
            row.rss_per_connection_kib
                .map_or("-".into(), |kib| format!("{kib:.1}")),
        ];
        if self.counted() {
            cells.push(
                row.syscalls
                    .as_ref()
                    .map_or("-".into(), |calls| format!("{:.2}", calls.total as f64 / n)),
            );
        }
        cells.push(format!("{}/{}", row.ok, row.ok + row.failed));
        Line::Ran(cells)
    }

    /// The heading line: what was run, on what.
    pub fn heading(&self) -> String {
        let runs = if self.repeat > 1 {
            format!(
                "median of {} runs each (wall spread in brackets)",
                self.repeat
            )
        } else {
            "1 run each".to_string()
        };
        format!(
            "{} connections, server delay {} ms, {runs}, on a {}",
            self.connections, self.delay_ms, self.machine
        )
    }

    /// The table for a terminal.
    pub fn text(&self) -> String {
        let mut out = format!("{}\n\n", self.heading());
        let columns = self.columns();
        let line = |cells: &[String]| {
            let mut text = String::new();
            for ((_, _, width), cell) in columns.iter().zip(cells) {
                let w = width.unsigned_abs() as usize;
                let _ = if *width < 0 {
                    write!(text, "{cell:<w$} ")
                } else {
                    write!(text, "{cell:>w$} ")
                };
            }
            text.trim_end().to_string()
        };
        let header: Vec<String> = columns.iter().map(|c| c.0.to_string()).collect();
        let _ = writeln!(out, "{}", line(&header));
        for row in &self.rows {
            let _ = match self.line(row) {
                Line::Ran(cells) => writeln!(out, "{}", line(&cells)),
                Line::Skipped(step, variant, reason) => {
                    writeln!(out, "{step:<20} {variant:<15} skipped: {reason}")
                }
            };
        }
        if let Some(calls) = self.syscalls_text() {
            let _ = write!(out, "\n{calls}");
        }
        out
    }

    /// The same table in Markdown, with the heading as its caption (and, when system calls
    /// were counted, a second table of them by kind).
    pub fn markdown(&self) -> String {
        let columns = self.columns();
        let heads: Vec<&str> = columns.iter().map(|c| c.1).collect();
        let aligns: Vec<&str> = columns
            .iter()
            .map(|c| if c.2 < 0 { "---" } else { "---:" })
            .collect();
        let mut out = format!("| {} |\n|{}|\n", heads.join(" | "), aligns.join("|"));
        for row in &self.rows {
            let _ = match self.line(row) {
                Line::Ran(cells) => writeln!(out, "| {} |", cells.join(" | ")),
                Line::Skipped(step, variant, reason) => {
                    let empty = " |".repeat(columns.len() - 3);
                    writeln!(out, "| {step} | {variant} | skipped: {reason} |{empty}")
                }
            };
        }
        let floor = if self.floor_cpu_ms().is_some() {
            " CPU × floor: the row's CPU over the floor's (`floor/bare-epoll`: nothing but the system calls a connection needs)."
        } else {
            ""
        };
        let _ = write!(out, "\n{}.{floor}\n", self.heading());
        if let Some(calls) = self.syscalls_markdown() {
            let _ = write!(out, "\n{calls}");
        }
        out
    }

    /// The system calls by kind, per connection, one cell list per counted row.
    fn syscall_cells(&self) -> Vec<[String; 9]> {
        let n = self.connections.max(1) as f64;
        let per = |count: u64| format!("{:.2}", count as f64 / n);
        self.rows
            .iter()
            .filter_map(|row| {
                let c = row.syscalls.as_ref()?;
                Some([
                    row.step.clone(),
                    row.variant.clone(),
                    per(c.total),
                    per(c.failed),
                    per(c.connect),
                    per(c.wait),
                    per(c.io),
                    per(c.futex),
                    per(c.other),
                ])
            })
            .collect()
    }

    /// What the second table's columns hold.
    const SYSCALL_HEADS: [&'static str; 9] = [
        "step",
        "variant",
        "all",
        "failed",
        "socket+connect",
        "wait",
        "read/write",
        "futex",
        "other",
    ];

    /// The second table, for a terminal.
    fn syscalls_text(&self) -> Option<String> {
        let cells = self.syscall_cells();
        if cells.is_empty() {
            return None;
        }
        let line = |c: [&str; 9]| {
            format!(
                "{:<20} {:<15} {:>8} {:>8} {:>14} {:>8} {:>10} {:>8} {:>8}",
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
            )
        };
        let mut out = String::from(
            "system calls per connection, counted in one more run under strace -f -c:\n",
        );
        let _ = writeln!(out, "{}", line(Self::SYSCALL_HEADS));
        for row in &cells {
            let _ = writeln!(out, "{}", line(row.each_ref().map(String::as_str)));
        }
        Some(out)
    }

    /// The second table, in Markdown.
    fn syscalls_markdown(&self) -> Option<String> {
        let cells = self.syscall_cells();
        if cells.is_empty() {
            return None;
        }
        let mut out = format!(
            "| {} |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
            Self::SYSCALL_HEADS.join(" | ")
        );
        for row in &cells {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        let _ = writeln!(
            out,
            "\nSystem calls per connection, counted in one more run of each variant under `strace -f -c` \
             (every thread; failed: mostly `EINPROGRESS` and `EAGAIN`; wait: `epoll_wait`, `poll`, \
             `select`, `io_uring_enter`; the process's start-up, about 120 calls, included)."
        );
        Some(out)
    }
}

/// The machine in a few words: cores, architecture, kernel.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|release| format!("Linux {}", release.trim().split('-').next().unwrap_or("")))
        .unwrap_or_else(|_| std::env::consts::OS.to_string());
    format!("{cores}-core {}, {kernel}", std::env::consts::ARCH)
}
