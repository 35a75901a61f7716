//! The chapter's figure: every case in a row, with who polls the I/O, which reactor it waits on
//! and who turns that reactor, beside the verdict of a real run (`interop --svg FILE`).

use testbed::svg::Svg;

use crate::{Case, Verdict};

/// Column titles and their left edges.
const COLUMNS: [(&str, f64); 4] = [
    ("the I/O future", 10.0),
    ("polled by (the executor)", 230.0),
    ("its reactor, and who turns it", 450.0),
    ("what happened", 770.0),
];
/// The drawing's width.
const WIDTH: f64 = 900.0;
/// One case's row.
const ROW: f64 = 38.0;

/// The verdict's word and its colours (text, background).
fn badge(verdict: &Verdict) -> (&'static str, &'static str, &'static str) {
    match verdict {
        Verdict::Worked(_) => ("works", "#1b5e20", "#dcefdc"),
        Verdict::Panicked(_) => ("panics", "#8e1b1b", "#f7dada"),
        Verdict::NeverWoke(_) => ("never wakes", "#7a4b00", "#fbe9c8"),
    }
}

/// Draws `runs` (each case with its verdict) as an SVG table, `caption` lines under the title.
pub fn svg(runs: &[(Case, Verdict)], title: &str, caption: &[&str]) -> String {
    let header = 40.0 + 16.0 * caption.len() as f64 + 14.0;
    let first = header + 16.0;
    let height = first + ROW * runs.len() as f64 + 8.0;
    let mut svg = Svg::new(format_args!("{WIDTH:.0}"), format_args!("{height:.0}"), 12);
    svg.text(10, 24, r#"font-size="16" font-weight="bold""#, title);
    for (i, line) in caption.iter().enumerate() {
        let y = format!("{:.0}", 42.0 + 16.0 * i as f64);
        svg.text(10, y, r##"fill="#555" font-size="11""##, line);
    }
    let whole = |v: f64| format!("{v:.0}");
    for (name, x) in COLUMNS {
        svg.text(whole(x), whole(header), r#"font-weight="bold""#, name);
    }
    let mut previous_io = "";
    for (i, (case, verdict)) in runs.iter().enumerate() {
        let top = first + ROW * i as f64;
        if i % 2 == 0 {
            svg.rect(
                0,
                whole(top),
                whole(WIDTH),
                whole(ROW),
                r##"fill="#f4f6fa""##,
            );
        }
        // A rule between families of I/O (step 5's, tokio's, the portable one).
        let family = |io: &str| io.split([' ', ',']).next().unwrap_or("").to_string();
        if i > 0 && family(case.io) != family(previous_io) {
            let rule = r##"stroke="#999""##;
            svg.line((0, whole(top)), (whole(WIDTH), whole(top)), rule);
        }
        previous_io = case.io;
        let (line1, line2) = (whole(top + 16.0), whole(top + 30.0));
        // "whose I/O, how it was set up" on two lines.
        let (whose, how) = case.io.split_once(", ").unwrap_or((case.io, ""));
        svg.text(whole(COLUMNS[0].1), &line1, "", whose);
        svg.text(whole(COLUMNS[0].1), &line2, r##"fill="#444""##, how);
        svg.text(whole(COLUMNS[1].1), &line1, "", case.executor);
        // "which reactor: who turns it" on two lines.
        let (which, who) = case.reactor.split_once(": ").unwrap_or((case.reactor, ""));
        svg.text(whole(COLUMNS[2].1), &line1, r#"font-weight="bold""#, which);
        svg.text(whole(COLUMNS[2].1), &line2, r##"fill="#444""##, who);
        let (word, ink, paper) = badge(verdict);
        let x = COLUMNS[3].1;
        let paper = format!(r#"fill="{paper}" rx="4""#);
        svg.rect(whole(x - 4.0), whole(top + 5.0), 110, 18, &paper);
        let ink = format!(r#"fill="{ink}" font-weight="bold""#);
        svg.text(whole(x + 2.0), &line1, &ink, word);
    }
    svg.finish()
}
