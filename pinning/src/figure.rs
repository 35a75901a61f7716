//! The picture of the move: the greeting's buffer and cursor before and after, at the
//! addresses of a real run.

use std::fmt::Write;

use crate::moved::Moved;

/// Width of one byte of the buffer in the picture.
const CELL: usize = 24;

/// One greeting drawn as its 11 bytes, with a caption and its address; returns the x of its
/// first byte.
fn greeting(svg: &mut String, x: usize, y: usize, caption: &str, address: usize, bytes: &str) {
    let _ = writeln!(
        svg,
        r#"<text x="{x}" y="{}" class="caption">{caption}</text>"#,
        y - 26
    );
    let _ = writeln!(
        svg,
        r#"<text x="{x}" y="{}" class="address">buf at {address:#x}</text>"#,
        y - 8
    );
    for (i, byte) in bytes.chars().enumerate() {
        let cx = x + i * CELL;
        let _ = writeln!(
            svg,
            r#"<rect x="{cx}" y="{y}" width="{CELL}" height="{CELL}" class="cell"/><text x="{}" y="{}" class="byte">{byte}</text>"#,
            cx + CELL / 2,
            y + 17
        );
    }
}

/// The SVG: after the first poll, and after the move and the second poll.
pub fn svg(moved: &Moved, caption: &str) -> String {
    let (width, height) = (760, 330);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif" font-size="13">"#
    );
    svg.push_str(
        r#"<style>
.cell { fill: #ffffff; stroke: #555555; }
.byte { text-anchor: middle; font-family: monospace; font-size: 15px; fill: #222222; }
.caption { font-weight: bold; fill: #222222; }
.address, .note { fill: #444444; }
.cursor { stroke: #c0392b; stroke-width: 2; fill: none; marker-end: url(#arrow); }
.cursor-label { fill: #c0392b; }
</style>
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="rgb(192,57,43)"/></marker></defs>
<rect x="0" y="0" width="100%" height="100%" fill="white"/>
"#,
    );
    let hello = "hello ·····";
    // Row 1: the greeting during its first poll, and its cursor pointing at its own byte 6.
    let (x1, y1) = (20, 60);
    greeting(
        &mut svg,
        x1,
        y1,
        "1. After the first poll: first",
        moved.buf_before,
        hello,
    );
    let target = x1 + 6 * CELL + CELL / 2;
    let _ = writeln!(
        svg,
        r#"<path d="M {} {} C {} {}, {} {}, {target} {}" class="cursor"/><text x="{}" y="{}" class="cursor-label">cursor = {:#x}</text>"#,
        x1 + 11 * CELL + 60,
        y1 + 12,
        x1 + 11 * CELL + 30,
        y1 + 70,
        target + 10,
        y1 + 70,
        y1 + CELL + 2,
        x1 + 11 * CELL + 66,
        y1 + 16,
        moved.cursor
    );
    // Row 2: the old place, now the fresh greeting that the second poll wrote into; the moved
    // greeting, whose cursor still points at the old place.
    let (x2, y2) = (20, 210);
    let x3 = 420;
    greeting(
        &mut svg,
        x2,
        y2,
        "2. After the swap and the second poll: first (now the fresh one)",
        moved.buf_before,
        &crate::moved::shown(&moved.left_behind),
    );
    greeting(
        &mut svg,
        x3,
        y2,
        "second: the polled greeting, moved",
        moved.buf_after,
        &crate::moved::shown(&moved.output),
    );
    let _ = writeln!(
        svg,
        r#"<path d="M {} {} C {} {}, {} {}, {target} {}" class="cursor"/><text x="{}" y="{}" class="cursor-label">its cursor: still {:#x}</text>"#,
        x3 + 40,
        y2 + CELL + 4,
        x3,
        y2 + 80,
        target + 40,
        y2 + 80,
        y2 + CELL + 2,
        x3 + 60,
        y2 + 60,
        moved.cursor
    );
    for (i, line) in caption.lines().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="20" y="{}" class="note">{}</text>"#,
            height - 30 + i * 16,
            escape(line)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
