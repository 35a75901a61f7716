//! The two queues of io_uring, drawn from a real run of step 8 with `--trace`: each
//! `io_uring_enter` as a bar of the entries it handed to the kernel (the submission queue),
//! each reaping as a bar of the completions taken back (the completion queue), top to bottom
//! in the order they happened, with a marked gap where the thread slept.

use testbed::svg::Svg;

/// One thing the ring did.
#[derive(Debug, Clone, PartialEq)]
pub enum Batch {
    /// An `io_uring_enter` that handed over this many entries (and waited, or not).
    Enter {
        /// When, in ms since tracing started.
        at_ms: f64,
        /// Entries handed over.
        entries: u32,
        /// Whether the call also waited for a completion.
        waits: bool,
    },
    /// Completions taken from the completion queue.
    Reaped {
        /// When, in ms since tracing started.
        at_ms: f64,
        /// How many.
        completions: u32,
    },
}

impl Batch {
    fn at_ms(&self) -> f64 {
        match self {
            Batch::Enter { at_ms, .. } | Batch::Reaped { at_ms, .. } => *at_ms,
        }
    }
}

/// The ring's lines of a step 8 `--trace` output, in order (lines like
/// `   1.632 ms  ring: io_uring_enter hands over 41 entries and waits` and
/// `   1.723 ms  ring: 20 completions reaped`); every other line is skipped.
pub fn batches(trace: &str) -> Vec<Batch> {
    let mut found = Vec::new();
    for line in trace.lines() {
        let Some((time, text)) = line.trim_start().split_once(" ms  ring: ") else {
            continue;
        };
        let Ok(at_ms) = time.trim().parse::<f64>() else {
            continue;
        };
        if let Some(rest) = text.strip_prefix("io_uring_enter hands over ") {
            let Some((count, tail)) = rest.split_once(" entries") else {
                continue;
            };
            if let Ok(entries) = count.parse() {
                let waits = tail == " and waits";
                found.push(Batch::Enter {
                    at_ms,
                    entries,
                    waits,
                });
            }
        } else if let Some(completions) = text
            .strip_suffix(" completions reaped")
            .or_else(|| text.strip_suffix(" completion reaped"))
            .and_then(|count| count.parse().ok())
        {
            found.push(Batch::Reaped { at_ms, completions });
        }
    }
    found
}

/// Draws `batches` as an SVG: two columns, the submission queue (entries handed over by each
/// `io_uring_enter`) and the completion queue (completions reaped), one row per batch, bars
/// as long as the counts, and a dashed line where more than 5 ms passed (the thread asleep
/// in `io_uring_enter`). `caption` lines go under the title.
pub fn svg(batches: &[Batch], title: &str, caption: &[&str]) -> String {
    const LEFT: f64 = 70.0;
    const COLUMN: f64 = 330.0;
    const ROW: f64 = 24.0;
    const GAP: f64 = 30.0;
    let top = 40.0 + 16.0 * caption.len() as f64 + 16.0;
    let first_row = top + 44.0;
    let most = batches
        .iter()
        .map(|b| match b {
            Batch::Enter { entries, .. } => *entries,
            Batch::Reaped { completions, .. } => *completions,
        })
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let scale = (COLUMN - 120.0) / most;
    let mut ys = Vec::with_capacity(batches.len());
    let mut gaps = Vec::new();
    let mut y = first_row;
    for (i, batch) in batches.iter().enumerate() {
        if i > 0 {
            let waited = batch.at_ms() - batches[i - 1].at_ms();
            if waited > 5.0 {
                gaps.push((y + (ROW + GAP) / 2.0 - 4.0, waited));
                y += GAP;
            }
            y += ROW;
        }
        ys.push(y);
    }
    let width = LEFT + 2.0 * COLUMN + 20.0;
    let height = y + 30.0;
    let whole = |v: f64| format!("{v:.0}");
    let mut svg = Svg::new(whole(width), whole(height), 12);
    svg.text(10, 24, r#"font-size="16" font-weight="bold""#, title);
    for (i, line) in caption.iter().enumerate() {
        let y = whole(42.0 + 16.0 * i as f64);
        svg.text(10, y, r##"fill="#555" font-size="11""##, line);
    }
    let heads = [
        (
            "submission queue",
            "entries handed to the kernel by one io_uring_enter",
        ),
        (
            "completion queue",
            "completions reaped: results, no system call",
        ),
    ];
    for (i, (name, what)) in heads.iter().enumerate() {
        let x = LEFT + i as f64 * COLUMN;
        let fill = if i == 0 { "#f4f6fa" } else { "#f4faf5" };
        svg.rect(
            whole(x),
            whole(top),
            whole(COLUMN - 10.0),
            whole(height - top),
            &format!(r#"fill="{fill}""#),
        );
        svg.text(
            whole(x + 8.0),
            whole(top + 18.0),
            r#"font-weight="bold""#,
            name,
        );
        svg.text(
            whole(x + 8.0),
            whole(top + 33.0),
            r##"fill="#555" font-size="10""##,
            what,
        );
    }
    let small_grey = r##"fill="#777" font-size="10""##;
    svg.text(8, whole(first_row - 12.0), small_grey, "ms");
    for &(gy, waited) in &gaps {
        let dashed = r##"stroke="#999" stroke-dasharray="4 4""##;
        svg.line(
            (whole(LEFT), whole(gy)),
            (whole(width - 10.0), whole(gy)),
            dashed,
        );
        let why = format!("{waited:.0} ms: the thread sleeps in io_uring_enter, the kernel works");
        svg.text(
            whole(LEFT + 8.0),
            whole(gy - 4.0),
            r##"fill="#555" font-size="11""##,
            &why,
        );
    }
    for (batch, &y) in batches.iter().zip(&ys) {
        svg.text(
            8,
            whole(y + 4.0),
            small_grey,
            &format!("{:.3}", batch.at_ms()),
        );
        let (column, count, label, colour) = match batch {
            Batch::Enter { entries, waits, .. } => {
                let label = if *waits {
                    format!("{entries} in, and wait")
                } else {
                    format!("{entries} in")
                };
                (0.0, *entries, label, "#3b6ea5")
            }
            Batch::Reaped { completions, .. } => {
                (1.0, *completions, format!("{completions} out"), "#3a8a3a")
            }
        };
        let x = LEFT + column * COLUMN + 8.0;
        let length = (count as f64 * scale).max(1.0);
        svg.rect(
            whole(x),
            whole(y - 7.0),
            format_args!("{length:.1}"),
            14,
            &format!(r#"fill="{colour}""#),
        );
        svg.text(whole(x + length + 6.0), whole(y + 4.0), "", &label);
    }
    svg.finish()
}
