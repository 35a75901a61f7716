//! Drawing a run: one row per connection, time running left to right.
//!
//! A blocking run looks like a staircase (each connection starts when the one before ends);
//! a concurrent run looks like parallel bars (all start together and wait together). Both
//! drawings come from the same grid: time is cut into columns, and each cell shows the phase
//! its connection (or group of connections) spent most of that column in. Past a few dozen
//! connections, neighbouring connections share a row, and the header says how many.

use std::fmt::Write as _;

use crate::record::ConnectionResult;
use crate::svg::Svg;

/// The most connections in flight at any one moment, from their recorded times: each start
/// counts +1 and each end -1, and at equal times an end comes first (a connection done at t and
/// one started at t were not both in flight).
pub fn peak_in_flight(results: &[ConnectionResult]) -> usize {
    let mut edges: Vec<(f64, i32)> = results
        .iter()
        .flat_map(|r| [(r.start_ms, 1), (r.done_ms, -1)])
        .collect();
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut peak) = (0i32, 0i32);
    for (_, change) in edges {
        now += change;
        peak = peak.max(now);
    }
    peak.max(0) as usize
}

/// The phases of a connection, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// From the start of connect until the connection is established.
    Connecting = 0,
    /// Connected, request sent, no answer yet: the server is "working" (our delay).
    Waiting = 1,
    /// From the first response byte to the last.
    Receiving = 2,
}

const PHASES: [Phase; 3] = [Phase::Connecting, Phase::Waiting, Phase::Receiving];

impl Phase {
    fn ascii(self) -> char {
        match self {
            Phase::Connecting => '.',
            Phase::Waiting => '-',
            Phase::Receiving => '#',
        }
    }

    fn colour(self) -> &'static str {
        match self {
            Phase::Connecting => "#f2b134",
            Phase::Waiting => "#9db7d5",
            Phase::Receiving => "#2f6db5",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Phase::Connecting => "connecting",
            Phase::Waiting => "waiting for the response",
            Phase::Receiving => "receiving",
        }
    }
}

/// What one cell shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// No connection of the row was active in this column.
    Idle,
    /// The phase that took most of this column's time.
    Active(Phase),
    /// A connection of the row failed in this column.
    Failed,
}

/// Which worker thread ran a row's connections, on a multi-threaded runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Worker {
    /// All of them started and finished on this worker.
    One(usize),
    /// One connection, started on the first and finished on the second (stolen, or woken
    /// onto another worker).
    Moved(usize, usize),
    /// Several connections, not all on the same worker.
    Mixed,
}

impl Worker {
    /// The row's worker, from its connections' records; `None` if no record names one.
    fn of(group: &[&ConnectionResult]) -> Option<Worker> {
        let pairs: Vec<(Option<usize>, Option<usize>)> = group
            .iter()
            .map(|r| {
                (
                    r.started_on.map(usize::from),
                    r.finished_on.map(usize::from),
                )
            })
            .collect();
        match pairs.as_slice() {
            [(None, None)] => None,
            [(started, finished)] => {
                let (started, finished) = (started.or(*finished)?, finished.or(*started)?);
                Some(if started == finished {
                    Worker::One(finished)
                } else {
                    Worker::Moved(started, finished)
                })
            }
            _ if pairs.iter().all(|p| *p == (None, None)) => None,
            _ => {
                let first = pairs[0];
                let same = pairs.iter().all(|p| *p == first && p.0 == p.1);
                Some(match (same, first.1) {
                    (true, Some(worker)) => Worker::One(worker),
                    _ => Worker::Mixed,
                })
            }
        }
    }

    /// As the ASCII timeline writes it: `w1`, `w0>1`, `w*`.
    fn label(self) -> String {
        match self {
            Worker::One(w) => format!("w{w}"),
            Worker::Moved(from, to) => format!("w{from}>{to}"),
            Worker::Mixed => "w*".into(),
        }
    }

    /// The colour of its mark in the SVG timeline: the finishing worker's.
    fn colour(self) -> &'static str {
        const COLOURS: [&str; 6] = [
            "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d",
        ];
        match self {
            Worker::One(w) | Worker::Moved(_, w) => COLOURS[w % COLOURS.len()],
            Worker::Mixed => "#999999",
        }
    }
}

/// The drawing, before it becomes text or SVG.
#[derive(Debug)]
struct Grid {
    /// One entry per row: the label and the cells.
    rows: Vec<(String, Vec<Cell>)>,
    /// One entry per row: its worker, on a multi-threaded runtime.
    workers: Vec<Option<Worker>>,
    /// The time the last column ends at, in ms.
    span_ms: f64,
    /// How many connections share a row.
    per_row: usize,
}

/// The time intervals (`from`, `to`, phase) of one connection.
fn intervals(r: &ConnectionResult) -> Vec<(f64, f64, Phase)> {
    let mut out = Vec::with_capacity(3);
    let connected = r.connected_ms.unwrap_or(r.done_ms);
    out.push((r.start_ms, connected, Phase::Connecting));
    if let Some(connected) = r.connected_ms {
        let first_byte = r.first_byte_ms.unwrap_or(r.done_ms);
        out.push((connected, first_byte, Phase::Waiting));
        if let Some(first_byte) = r.first_byte_ms {
            out.push((first_byte, r.done_ms, Phase::Receiving));
        }
    }
    out
}

impl Grid {
    /// Lays `results` out on `columns` columns and at most `max_rows` rows.
    fn new(results: &[ConnectionResult], columns: usize, max_rows: usize) -> Grid {
        let mut sorted: Vec<&ConnectionResult> = results.iter().collect();
        sorted.sort_by_key(|r| r.id);
        let span_ms = sorted
            .iter()
            .map(|r| r.done_ms)
            .fold(0.0, f64::max)
            .max(1e-3);
        let per_row = sorted.len().div_ceil(max_rows.max(1)).max(1);
        let column_ms = span_ms / columns as f64;
        let column_of = |ms: f64| ((ms / column_ms) as usize).min(columns - 1);
        let workers = sorted.chunks(per_row).map(Worker::of).collect();
        let rows = sorted
            .chunks(per_row)
            .map(|group| {
                // Time spent in each phase, per column, summed over the group.
                let mut time = vec![[0.0f64; 3]; columns];
                let mut failed = vec![false; columns];
                for r in group {
                    for (from, to, phase) in intervals(r) {
                        for (c, cell) in time
                            .iter_mut()
                            .enumerate()
                            .take(column_of(to) + 1)
                            .skip(column_of(from))
                        {
                            let (lo, hi) = (c as f64 * column_ms, (c + 1) as f64 * column_ms);
                            // Even an instant phase counts a little, so it is not invisible.
                            cell[phase as usize] +=
                                (to.min(hi) - from.max(lo)).max(column_ms * 1e-3);
                        }
                    }
                    if !r.ok {
                        failed[column_of(r.done_ms)] = true;
                    }
                }
                let cells = time
                    .iter()
                    .zip(&failed)
                    .map(|(spent, &failed)| {
                        if failed {
                            return Cell::Failed;
                        }
                        PHASES
                            .iter()
                            .filter(|p| spent[**p as usize] > 0.0)
                            .max_by(|a, b| spent[**a as usize].total_cmp(&spent[**b as usize]))
                            .map_or(Cell::Idle, |p| Cell::Active(*p))
                    })
                    .collect();
                let (first, last) = (group[0].id, group[group.len() - 1].id);
                let label = if first == last {
                    format!("#{first}")
                } else {
                    format!("#{first}-{last}")
                };
                (label, cells)
            })
            .collect();
        Grid {
            rows,
            workers,
            span_ms,
            per_row,
        }
    }
}

/// The ASCII timeline: at most about 30 rows, `width` columns of time.
pub fn ascii(results: &[ConnectionResult], width: usize) -> String {
    const MAX_ROWS: usize = 30;
    let width = width.max(10);
    if results.is_empty() {
        return "timeline: no connections\n".into();
    }
    let grid = Grid::new(results, width, MAX_ROWS);
    let mut out = String::new();
    let _ = write!(
        out,
        "timeline: {} connections over {:.1} ms, one column = {:.2} ms",
        results.len(),
        grid.span_ms,
        grid.span_ms / width as f64
    );
    if grid.per_row > 1 {
        let _ = write!(out, "; compressed to {} connections per row", grid.per_row);
    }
    out.push('\n');
    // On a multi-threaded runtime, each label says which worker ran the row, in a column.
    let id_width = grid
        .rows
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0);
    let worker_width = grid
        .workers
        .iter()
        .flatten()
        .map(|worker| worker.label().len())
        .max();
    let labels: Vec<String> = grid
        .rows
        .iter()
        .zip(&grid.workers)
        .map(|((label, _), worker)| match worker_width {
            Some(width) => {
                let worker = worker.map(Worker::label).unwrap_or_default();
                format!("{label:>id_width$} {worker:<width$}")
            }
            None => label.clone(),
        })
        .collect();
    let label_width = labels.iter().map(String::len).max().unwrap_or(0);
    for (label, (_, cells)) in labels.iter().zip(&grid.rows) {
        let bar: String = cells
            .iter()
            .map(|cell| match cell {
                Cell::Idle => ' ',
                Cell::Active(phase) => phase.ascii(),
                Cell::Failed => 'x',
            })
            .collect();
        let _ = writeln!(out, "{label:>label_width$} |{bar}|");
    }
    let _ = writeln!(out, "{:>label_width$} {}", "", axis(width, grid.span_ms));
    let _ = writeln!(
        out,
        "legend: {} connecting  {} waiting for the response  {} receiving  x failed",
        Phase::Connecting.ascii(),
        Phase::Waiting.ascii(),
        Phase::Receiving.ascii()
    );
    if grid.workers.iter().any(Option::is_some) {
        let _ = writeln!(
            out,
            "workers: wN ran on worker N; wA>B started on A, finished on B; w* a mix"
        );
    }
    out
}

/// A time axis under `width` columns: tick labels at the start, quarters and end.
fn axis(width: usize, span_ms: f64) -> String {
    let mut line = vec![' '; width + 2 + 12];
    let mut next_free = 0;
    for quarter in 0..=4 {
        let column = 1 + width * quarter / 4; // +1 for the opening '|'
        let label = format!("{}ms", (span_ms * quarter as f64 / 4.0).round());
        // Centre each label on its tick, but never overlap the previous one.
        let start = column.saturating_sub(label.len() / 2).max(next_free);
        if start + label.len() > line.len() {
            break;
        }
        for (i, ch) in label.chars().enumerate() {
            line[start + i] = ch;
        }
        next_free = start + label.len() + 1;
    }
    line.into_iter().collect::<String>().trim_end().to_string()
}

/// The same timeline as an SVG image (for the book): at most 100 rows, with axis and legend.
/// The first line of `title` is the heading; further lines are printed under it, smaller.
pub fn svg(results: &[ConnectionResult], title: &str) -> String {
    const COLUMNS: usize = 600;
    const MAX_ROWS: usize = 100;
    const LEFT: usize = 90;
    let grid = Grid::new(results, COLUMNS, MAX_ROWS);
    let mut lines = title.lines();
    let mut heading = format!(
        "{} ({} connections",
        lines.next().unwrap_or(""),
        results.len()
    );
    if grid.per_row > 1 {
        let _ = write!(heading, ", {} per row", grid.per_row);
    }
    heading.push(')');
    let notes: Vec<&str> = lines.collect();
    let top = 40 + 14 * notes.len();
    let row_height = if grid.rows.len() <= 30 { 14 } else { 6 };
    let plot_height = grid.rows.len() * row_height;
    let marks = grid.workers.iter().any(Option::is_some);
    let legend_rows = if marks { 80 } else { 60 };
    let (width, height) = (LEFT + COLUMNS + 20, top + plot_height + legend_rows);
    let mut svg = Svg::new(width, height, 11);
    svg.text(LEFT, 20, r#"font-size="13""#, &heading);
    for (i, note) in notes.iter().enumerate() {
        svg.text(LEFT, 34 + 14 * i, r##"fill="#555""##, note);
    }
    for (i, ((label, cells), worker)) in grid.rows.iter().zip(&grid.workers).enumerate() {
        let y = top + i * row_height;
        if grid.rows.len() <= 30 || i % 10 == 0 {
            let x = if marks { LEFT - 14 } else { LEFT - 6 };
            svg.text(x, y + row_height - 2, r#"text-anchor="end""#, label);
        }
        // On a multi-threaded runtime: a mark in the colour of the worker that finished it.
        if let Some(worker) = worker {
            let fill = format!(r#"fill="{}""#, worker.colour());
            svg.rect(LEFT - 10, y + 1, 7, row_height - 2, &fill);
        }
        // Merge runs of equal cells into one rectangle each.
        let mut c = 0;
        while c < cells.len() {
            let cell = cells[c];
            let run = cells[c..]
                .iter()
                .take_while(|other| **other == cell)
                .count();
            let fill = match cell {
                Cell::Idle => None,
                Cell::Active(phase) => Some(phase.colour()),
                Cell::Failed => Some("#d33c3c"),
            };
            if let Some(fill) = fill {
                let fill = format!(r#"fill="{fill}""#);
                svg.rect(LEFT + c, y + 1, run, row_height - 2, &fill);
            }
            c += run;
        }
    }
    // The axis: a line with five ticks.
    let axis_y = top + plot_height + 4;
    svg.line(
        (LEFT, axis_y),
        (LEFT + COLUMNS, axis_y),
        r#"stroke="black""#,
    );
    for quarter in 0..=4 {
        let x = LEFT + COLUMNS * quarter / 4;
        let ms = (grid.span_ms * quarter as f64 / 4.0).round();
        svg.line((x, axis_y), (x, axis_y + 4), r#"stroke="black""#);
        svg.text(
            x,
            axis_y + 16,
            r#"text-anchor="middle""#,
            &format!("{ms} ms"),
        );
    }
    // The legend.
    let legend_y = axis_y + 34;
    let mut x = LEFT;
    let entries = PHASES
        .iter()
        .map(|p| (p.colour(), p.name()))
        .chain([("#d33c3c", "failed")]);
    for (colour, name) in entries {
        svg.rect(x, legend_y - 9, 10, 10, &format!(r#"fill="{colour}""#));
        svg.text(x + 14, legend_y, "", name);
        x += 20 + name.len() * 6;
    }
    if marks {
        let mut workers: Vec<Worker> = grid.workers.iter().flatten().copied().collect();
        workers.sort_by_key(|w| match w {
            Worker::One(n) | Worker::Moved(_, n) => *n,
            Worker::Mixed => usize::MAX,
        });
        let mut shown: Vec<(&str, String)> = Vec::new();
        for worker in workers {
            let name = match worker {
                Worker::One(n) | Worker::Moved(_, n) => format!("worker {n}"),
                Worker::Mixed => "mixed".to_string(),
            };
            if !shown.iter().any(|(_, s)| *s == name) {
                shown.push((worker.colour(), name));
            }
        }
        let mut x = LEFT;
        svg.text(x, legend_y + 18, "", "finished on:");
        x += 80;
        for (colour, name) in shown {
            svg.rect(x, legend_y + 9, 10, 10, &format!(r#"fill="{colour}""#));
            svg.text(x + 14, legend_y + 18, "", &name);
            x += 20 + name.len() * 6;
        }
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection that waited from `start` to `start + wait` ms and then received for 1 ms.
    fn conn(id: usize, start: f64, wait: f64) -> ConnectionResult {
        ConnectionResult {
            id,
            ok: true,
            start_ms: start,
            connected_ms: Some(start + 0.1),
            written_ms: Some(start + 0.1),
            first_byte_ms: Some(start + wait),
            done_ms: start + wait + 1.0,
            bytes: 10,
            error: None,
            started_on: None,
            finished_on: None,
        }
    }

    fn bars(drawing: &str) -> Vec<&str> {
        drawing
            .lines()
            .filter(|l| l.contains('|'))
            .filter(|l| !l.starts_with("legend"))
            .collect()
    }

    /// Sequential connections draw a staircase: each row starts where the previous ended.
    #[test]
    fn sequential_runs_look_like_a_staircase() {
        let results: Vec<_> = (0..4).map(|i| conn(i, i as f64 * 50.0, 49.0)).collect();
        let drawing = ascii(&results, 40);
        let starts: Vec<usize> = bars(&drawing)
            .iter()
            .map(|row| {
                row.split_once('|')
                    .unwrap()
                    .1
                    .find(['.', '-', '#'])
                    .unwrap()
            })
            .collect();
        assert!(starts.windows(2).all(|w| w[1] >= w[0] + 8), "{drawing}");
    }

    /// Concurrent connections draw parallel bars, all of about the same extent.
    #[test]
    fn concurrent_runs_look_like_parallel_bars() {
        let results: Vec<_> = (0..4).map(|i| conn(i, i as f64 * 0.01, 49.0)).collect();
        let drawing = ascii(&results, 40);
        let rows = bars(&drawing);
        assert_eq!(rows.len(), 4);
        let bar = |row: &str| row.split_once('|').unwrap().1.to_string();
        assert!(rows.iter().all(|row| bar(row) == bar(rows[0])), "{drawing}");
        assert!(rows[0].contains("----------"), "{drawing}");
    }

    /// Past 30 connections rows are shared, and the header says so; failures are marked.
    #[test]
    fn many_connections_are_compressed_and_failures_marked() {
        let mut results: Vec<_> = (0..100).map(|i| conn(i, 0.0, 49.0)).collect();
        results[99].ok = false;
        results[99].error = Some("read: connection reset by peer".into());
        let drawing = ascii(&results, 40);
        assert!(
            drawing.contains("compressed to 4 connections per row"),
            "{drawing}"
        );
        assert_eq!(bars(&drawing).len(), 25);
        assert!(bars(&drawing).last().unwrap().contains('x'), "{drawing}");
        let image = svg(&results, "a <test>");
        assert!(
            image.starts_with("<svg")
                && image.contains("a &lt;test&gt;")
                && image.contains("#d33c3c")
        );
    }

    /// On a multi-threaded runtime each row says which worker ran it, and a connection that
    /// moved says from where to where; without workers, nothing changes.
    #[test]
    fn workers_are_shown_when_the_records_name_them() {
        let plain = ascii(&[conn(0, 0.0, 10.0)], 20);
        assert!(!plain.contains("w0") && !plain.contains("workers:"));
        let mut results = vec![conn(0, 0.0, 10.0), conn(1, 0.0, 10.0), conn(2, 0.0, 10.0)];
        (results[0].started_on, results[0].finished_on) = (Some(0), Some(0));
        (results[1].started_on, results[1].finished_on) = (Some(1), Some(1));
        (results[2].started_on, results[2].finished_on) = (Some(0), Some(1));
        let drawing = ascii(&results, 20);
        let labels: Vec<&str> = bars(&drawing)
            .iter()
            .map(|line| line.split('|').next().unwrap().trim())
            .collect();
        assert_eq!(labels, ["#0 w0", "#1 w1", "#2 w0>1"], "{drawing}");
        assert!(
            drawing.contains("#0 w0   |"),
            "the workers are a column:\n{drawing}"
        );
        assert!(drawing.contains("workers: wN ran on worker N"));
        let image = svg(&results, "workers");
        assert!(image.contains("worker 0") && image.contains("worker 1"));
    }
}
