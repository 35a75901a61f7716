//! The few SVG elements the workspace's three drawings use (the timeline here, `compare`'s
//! chart, `book-check`'s lifecycle figure), written once: each method writes one element on a
//! line of its own, and every text is escaped.
//!
//! Coordinates are taken as `Display`, so each drawing keeps the precision it wants (pass
//! `format_args!("{x:.1}")` for one decimal).

use std::fmt::{Display, Write as _};

/// A drawing being written.
#[derive(Debug)]
pub struct Svg {
    out: String,
}

impl Svg {
    /// A drawing `width` by `height`, in `font_size` sans-serif, on white.
    pub fn new(width: impl Display, height: impl Display, font_size: u32) -> Svg {
        let mut out = String::new();
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{font_size}">"#
        );
        let _ = writeln!(
            out,
            r#"<rect width="{width}" height="{height}" fill="white"/>"#
        );
        Svg { out }
    }

    /// A rectangle; `style` holds its other attributes (`fill="#e88"`).
    pub fn rect(
        &mut self,
        x: impl Display,
        y: impl Display,
        width: impl Display,
        height: impl Display,
        style: &str,
    ) {
        let _ = writeln!(
            self.out,
            r#"<rect x="{x}" y="{y}" width="{width}" height="{height}" {style}/>"#
        );
    }

    /// A line from (x1, y1) to (x2, y2); `style` holds its other attributes (`stroke="black"`).
    pub fn line(
        &mut self,
        (x1, y1): (impl Display, impl Display),
        (x2, y2): (impl Display, impl Display),
        style: &str,
    ) {
        let _ = writeln!(
            self.out,
            r#"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" {style}/>"#
        );
    }

    /// `text` (escaped) at (x, y); `style` holds its other attributes, if any
    /// (`text-anchor="end"`).
    pub fn text(&mut self, x: impl Display, y: impl Display, style: &str, text: &str) {
        let space = if style.is_empty() { "" } else { " " };
        let _ = writeln!(
            self.out,
            r#"<text x="{x}" y="{y}"{space}{style}>{}</text>"#,
            escape(text)
        );
    }

    /// Any other element, written as given (its text must be escaped already).
    pub fn element(&mut self, element: &str) {
        self.out.push_str(element);
        self.out.push('\n');
    }

    /// The finished drawing.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

/// Escapes text for SVG.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each element on a line of its own, in order, text escaped.
    #[test]
    fn writes_elements_in_order() {
        let mut svg = Svg::new(100, 50, 11);
        svg.rect(1, 2, 3, 4, r#"fill="red""#);
        svg.line(
            (0, 1),
            (format_args!("{:.1}", 2.26), 3),
            r#"stroke="black""#,
        );
        svg.text(5, 6, "", "a < b & c");
        svg.text(5, 7, r#"text-anchor="end""#, "x");
        let out = svg.finish();
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("<svg ") && lines[0].contains(r#"width="100""#));
        assert_eq!(lines[1], r#"<rect width="100" height="50" fill="white"/>"#);
        assert_eq!(
            lines[2],
            r#"<rect x="1" y="2" width="3" height="4" fill="red"/>"#
        );
        assert_eq!(
            lines[3],
            r#"<line x1="0" y1="1" x2="2.3" y2="3" stroke="black"/>"#
        );
        assert_eq!(lines[4], r#"<text x="5" y="6">a &lt; b &amp; c</text>"#);
        assert_eq!(lines[5], r#"<text x="5" y="7" text-anchor="end">x</text>"#);
        assert_eq!(lines[6], "</svg>");
    }
}
