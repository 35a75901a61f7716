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

/// One row, ready to print: the eight cells of a row that ran, or why it did not.
enum Line<'a> {
    /// step, variant, wall, x delay, CPU, peak RSS, RSS per connection, ok/N.
    Ran([String; 8]),
    /// step, variant, and the reason.
    Skipped(&'a str, &'a str, &'a str),
}

impl Comparison {
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
        Line::Ran([
            row.step.clone(),
            row.variant.clone(),
            format!("{wall:.1}{spread}"),
            if self.delay_ms > 0 {
                format!("{:.2}", wall / self.delay_ms as f64)
            } else {
                "-".into()
            },
            format!("{cpu:.1}"),
            format!("{:.1}", rss as f64 / 1024.0),
            row.rss_per_connection_kib
                .map_or("-".into(), |kib| format!("{kib:.1}")),
            format!("{}/{}", row.ok, row.ok + row.failed),
        ])
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
        let header = [
            "step", "variant", "wall ms", "x delay", "cpu ms", "RSS MiB", "KiB/conn", "ok/N",
        ];
        let columns = |c: [&str; 8]| {
            format!(
                "{:<20} {:<15} {:>24} {:>8} {:>9} {:>9} {:>9} {:>11}",
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
            )
        };
        let _ = writeln!(out, "{}", columns(header));
        for row in &self.rows {
            let _ = match self.line(row) {
                Line::Ran(cells) => {
                    writeln!(out, "{}", columns(cells.each_ref().map(String::as_str)))
                }
                Line::Skipped(step, variant, reason) => {
                    writeln!(out, "{step:<20} {variant:<15} skipped: {reason}")
                }
            };
        }
        out
    }

    /// The same table in Markdown, with the heading as its caption.
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "| step | variant | wall (ms) | × delay | CPU (ms) | peak RSS (MiB) | RSS per connection (KiB) | ok |\n\
             |---|---|---:|---:|---:|---:|---:|---:|\n",
        );
        for row in &self.rows {
            let _ = match self.line(row) {
                Line::Ran(cells) => writeln!(out, "| {} |", cells.join(" | ")),
                Line::Skipped(step, variant, reason) => {
                    writeln!(out, "| {step} | {variant} | skipped: {reason} | | | | | |")
                }
            };
        }
        let _ = write!(out, "\n{}.\n", self.heading());
        out
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
