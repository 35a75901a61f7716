//! The comparison as an SVG chart: per variant, its wall time and CPU time as bars (on a
//! logarithmic scale, since sequential runs take a hundred times longer than the others), and
//! a strip showing how many connections were in progress over the run.

use std::fmt::Write as _;

use testbed::ConnectionResult;
use testbed::svg::Svg;
use testbed::timeline::peak_in_flight;

use crate::table::Comparison;

const LABEL_WIDTH: f64 = 230.0;
const BARS_WIDTH: f64 = 330.0;
const STRIP_WIDTH: f64 = 200.0;
/// Room right of the strips for the peak.
const PEAK_WIDTH: f64 = 80.0;
const ROW_HEIGHT: f64 = 34.0;
const TOP: f64 = 64.0;
const WALL_COLOUR: &str = "#2f6db5";
const CPU_COLOUR: &str = "#e8843c";
const STRIP_COLOUR: &str = "#7aa6d6";

/// How many of `results` were in progress at each of `samples` evenly spaced moments of the
/// run, as fractions of the number of connections.
fn in_progress(results: &[ConnectionResult], samples: usize) -> Vec<f64> {
    let span = results
        .iter()
        .map(|r| r.done_ms)
        .fold(0.0, f64::max)
        .max(1e-3);
    let n = results.len().max(1) as f64;
    (0..samples)
        .map(|i| {
            let t = span * (i as f64 + 0.5) / samples as f64;
            results
                .iter()
                .filter(|r| r.start_ms <= t && t < r.done_ms)
                .count() as f64
                / n
        })
        .collect()
}

/// The chart.
pub fn svg(comparison: &Comparison) -> String {
    let rows = &comparison.rows;
    let longest = rows
        .iter()
        .flat_map(|r| [r.wall_ms, r.cpu_ms()])
        .flatten()
        .fold(1.0, f64::max);
    // Powers of ten from 0.1 ms up to the first above the longest time.
    let decades = (longest.log10().ceil() as i32 + 1).max(2);
    let x = |ms: f64| LABEL_WIDTH + BARS_WIDTH * ((ms.max(0.1)).log10() + 1.0) / decades as f64;
    let width = LABEL_WIDTH + BARS_WIDTH + STRIP_WIDTH + PEAK_WIDTH + 40.0;
    let height = TOP + ROW_HEIGHT * rows.len() as f64 + 60.0;
    let mut svg = Svg::new(width, height, 11);
    svg.text(10, 20, r#"font-size="13""#, "Every step on one workload");
    svg.text(10, 36, r##"fill="#555""##, &comparison.heading());
    let strip_x = LABEL_WIDTH + BARS_WIDTH + 30.0;
    let grey = r##"fill="#555""##;
    svg.text(
        strip_x,
        TOP - 8.0,
        grey,
        "connections in progress over the run",
    );
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + ROW_HEIGHT * i as f64;
        svg.text(10, y + 20.0, "", &format!("{} / {}", row.step, row.variant));
        let (Some(wall), Some(cpu)) = (row.wall_ms, row.cpu_ms()) else {
            let reason = row.skipped.as_deref().unwrap_or("not run");
            let skipped = format!("skipped: {reason}");
            svg.text(LABEL_WIDTH, y + 20.0, r##"fill="#888""##, &skipped);
            continue;
        };
        let x0 = x(0.1);
        let (wall_fill, cpu_fill) = (
            format!(r#"fill="{WALL_COLOUR}""#),
            format!(r#"fill="{CPU_COLOUR}""#),
        );
        svg.rect(
            x0,
            y + 6.0,
            format_args!("{:.1}", x(wall) - x0),
            10,
            &wall_fill,
        );
        svg.rect(
            x0,
            y + 17.0,
            format_args!("{:.1}", x(cpu) - x0),
            10,
            &cpu_fill,
        );
        let at = |ms: f64| format!("{:.1}", x(ms) + 4.0);
        svg.text(at(wall), y + 15.0, "", &format!("{wall:.0} ms"));
        let cpu_label = match comparison.floor_cpu_ms().filter(|floor| *floor > 0.0) {
            Some(floor) if row.step != "floor" => format!("{cpu:.0} ms, {:.1}× floor", cpu / floor),
            _ => format!("{cpu:.0} ms"),
        };
        svg.text(at(cpu), y + 26.0, "", &cpu_label);
        // The strip: a filled profile of connections in progress, over the run's own span.
        let samples = in_progress(&row.results, STRIP_WIDTH as usize / 2);
        let mut points = format!("{strip_x},{}", y + 28.0);
        for (j, fraction) in samples.iter().enumerate() {
            let px = strip_x + STRIP_WIDTH * j as f64 / samples.len() as f64;
            let _ = write!(
                points,
                " {px:.1},{:.1} {:.1},{:.1}",
                y + 28.0 - 22.0 * fraction,
                px + 2.0,
                y + 28.0 - 22.0 * fraction
            );
        }
        let _ = write!(points, " {},{}", strip_x + STRIP_WIDTH, y + 28.0);
        svg.element(&format!(
            r##"<polygon points="{points}" fill="{STRIP_COLOUR}" stroke="none"/>"##
        ));
        let frame = r##"fill="none" stroke="#ccc""##;
        svg.rect(strip_x, y + 6.0, STRIP_WIDTH, 22, frame);
        let peak = peak_in_flight(&row.results);
        let peak_x = strip_x + STRIP_WIDTH + 6.0;
        svg.text(peak_x, y + 20.0, "", &format!("at most {peak}"));
    }
    // The time axis under the bars: one tick per power of ten.
    let axis_y = TOP + ROW_HEIGHT * rows.len() as f64 + 6.0;
    // The floor's CPU, as a dashed line down every row: how far each CPU bar goes past it.
    if let Some(floor) = comparison.floor_cpu_ms() {
        let at = format!("{:.1}", x(floor));
        let dashed = format!(r#"stroke="{CPU_COLOUR}" stroke-dasharray="3,3""#);
        svg.line((&at, TOP), (&at, axis_y), &dashed);
    }
    let black = r#"stroke="black""#;
    svg.line((x(0.1), axis_y), (LABEL_WIDTH + BARS_WIDTH, axis_y), black);
    let middle = r#"text-anchor="middle""#;
    for power in -1..decades {
        let ms = 10f64.powi(power);
        let label = if ms < 1.0 {
            "0.1".to_string()
        } else {
            format!("{ms:.0}")
        };
        let tick = format!("{:.1}", x(ms));
        svg.line((&tick, axis_y), (&tick, axis_y + 4.0), black);
        svg.text(&tick, axis_y + 16.0, middle, &label);
    }
    let centre = format!("{:.1}", LABEL_WIDTH + BARS_WIDTH / 2.0);
    svg.text(centre, axis_y + 30.0, middle, "ms (log scale)");
    let legend_y = axis_y + 46.0;
    let wall_fill = format!(r#"fill="{WALL_COLOUR}""#);
    let cpu_fill = format!(r#"fill="{CPU_COLOUR}""#);
    svg.rect(LABEL_WIDTH, legend_y - 9.0, 10, 10, &wall_fill);
    svg.text(LABEL_WIDTH + 14.0, legend_y, "", "wall time");
    svg.rect(LABEL_WIDTH + 90.0, legend_y - 9.0, 10, 10, &cpu_fill);
    svg.text(
        LABEL_WIDTH + 104.0,
        legend_y,
        "",
        "CPU time (user + system)",
    );
    if comparison.floor_cpu_ms().is_some() {
        let dashed = format!(r#"stroke="{CPU_COLOUR}" stroke-dasharray="3,3""#);
        let legend_x = LABEL_WIDTH + 260.0;
        svg.line(
            (legend_x, legend_y - 4.0),
            (legend_x + 16.0, legend_y - 4.0),
            &dashed,
        );
        svg.text(legend_x + 20.0, legend_y, "", "the floor's CPU");
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(start: f64, done: f64) -> ConnectionResult {
        ConnectionResult {
            id: 0,
            ok: true,
            start_ms: start,
            connected_ms: None,
            written_ms: None,
            first_byte_ms: None,
            done_ms: done,
            bytes: 0,
            error: None,
            started_on: None,
            finished_on: None,
        }
    }

    /// One after another: one in progress at a time. All at once: all of them.
    #[test]
    fn in_progress_tells_sequential_from_concurrent() {
        let sequential: Vec<_> = (0..4)
            .map(|i| conn(i as f64 * 10.0, i as f64 * 10.0 + 10.0))
            .collect();
        assert!(
            in_progress(&sequential, 8)
                .iter()
                .all(|f| (*f - 0.25).abs() < 1e-9)
        );
        let concurrent: Vec<_> = (0..4).map(|_| conn(0.0, 10.0)).collect();
        assert!(
            in_progress(&concurrent, 8)
                .iter()
                .all(|f| (*f - 1.0).abs() < 1e-9)
        );
        assert_eq!(
            (peak_in_flight(&sequential), peak_in_flight(&concurrent)),
            (1, 4)
        );
    }
}
