//! Criterion's measurements as a Markdown table, for the book.
//!
//! Criterion stores each benchmark's statistics in
//! `target/criterion/<group>/<function>/<parameter>/new/estimates.json`. For a group benchmarked
//! with `BenchmarkId::new(function, parameter)`, [`table`] makes one row per parameter and one
//! column per function, each cell the median time.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::Path;

/// The median of one benchmark's samples, in nanoseconds.
fn median_ns(estimates: &Path) -> io::Result<f64> {
    let text = fs::read_to_string(estimates)?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(io::Error::other)?;
    json["median"]["point_estimate"].as_f64().ok_or_else(|| {
        io::Error::other(format!("{}: no median.point_estimate", estimates.display()))
    })
}

/// A time in the unit that suits it.
pub fn format_ns(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// The Markdown table of the group in `group_dir`. `columns` orders the functions (others
/// follow in name order); `row_label` heads the parameter column.
pub fn table(group_dir: &Path, columns: &[String], row_label: &str) -> io::Result<String> {
    // function -> parameter -> median
    let mut medians: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for function in fs::read_dir(group_dir)? {
        let function = function?;
        let name = function.file_name().to_string_lossy().into_owned();
        if name == "report" || !function.path().is_dir() {
            continue;
        }
        for parameter in fs::read_dir(function.path())? {
            let parameter = parameter?;
            let estimates = parameter.path().join("new/estimates.json");
            if estimates.is_file() {
                let value = parameter.file_name().to_string_lossy().into_owned();
                medians
                    .entry(name.clone())
                    .or_default()
                    .insert(value, median_ns(&estimates)?);
            }
        }
    }
    if medians.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "no measurements under {} (run the benchmark first)",
                group_dir.display()
            ),
        ));
    }
    let mut order: Vec<String> = columns
        .iter()
        .filter(|c| medians.contains_key(*c))
        .cloned()
        .collect();
    order.extend(medians.keys().filter(|k| !columns.contains(k)).cloned());
    let mut rows: BTreeSet<(u64, String)> = BTreeSet::new();
    for parameters in medians.values() {
        for p in parameters.keys() {
            rows.insert((p.parse().unwrap_or(u64::MAX), p.clone()));
        }
    }
    let mut out = format!("| {row_label} | {} |\n|---:|", order.join(" | "));
    out.push_str(&"---:|".repeat(order.len()));
    out.push('\n');
    for (_, row) in rows {
        let cells: Vec<String> = order
            .iter()
            .map(|f| {
                medians[f]
                    .get(&row)
                    .map_or_else(|| "n/a".to_string(), |ns| format_ns(*ns))
            })
            .collect();
        out.push_str(&format!("| {row} | {} |\n", cells.join(" | ")));
    }
    Ok(out)
}
