//! The book's state-machine figures: step 2's `Connection` and step 5's `Fetch`. Each figure is
//! described here (its states, in the order a connection goes through them, and what moves it
//! on), and drawn as an SVG by `book-check states NAME`. The states are the variants of the
//! enum in the crate's source: [`variants`] reads them from the file, and a test holds every
//! figure to its enum, so a renamed, added or removed state fails the build of the book.

use testbed::svg::Svg;

/// One figure: a chain of states, top to bottom.
#[derive(Debug)]
pub struct Figure {
    /// The name `book-check states` takes.
    pub name: &'static str,
    /// The heading drawn at the top.
    pub title: &'static str,
    /// The source file that holds the enum, from the workspace's top.
    pub file: &'static str,
    /// The enum whose variants the states are.
    pub enum_name: &'static str,
    /// Each state: the variant's name, what it holds, what keeps it there (drawn as a loop on
    /// the right), and what moves it on to the next state (drawn on the arrow down).
    pub states: &'static [State],
    /// What ends a connection early from any state (drawn on the left).
    pub failure: &'static str,
}

/// One state of a figure.
#[derive(Debug)]
pub struct State {
    /// The enum variant.
    pub variant: &'static str,
    /// What the variant holds, if anything (`{ written }`).
    pub holds: &'static str,
    /// What keeps it in this state (the loop).
    pub stays: &'static str,
    /// What moves it on to the next state (empty for the last).
    pub next: &'static str,
}

/// The figures of the book.
pub const FIGURES: &[Figure] = &[
    Figure {
        name: "step02-connection",
        title: "Step 2: one connection, a state machine visited by the busy loop",
        file: "step02-nonblocking/src/connection.rs",
        enum_name: "State",
        states: &[
            State {
                variant: "Connecting",
                holds: "",
                stays: "no peer yet: \"not yet\", visit the next one",
                next: "SO_ERROR clear and getpeername works: connected",
            },
            State {
                variant: "Writing",
                holds: "{ written }",
                stays: "the kernel took part of the request, or WouldBlock",
                next: "all of the request written",
            },
            State {
                variant: "Reading",
                holds: "",
                stays: "bytes arrived (fed to the check), or WouldBlock",
                next: "end-of-file: the response is checked",
            },
        ],
        failure: "an error, or the deadline: the connection fails",
    },
    Figure {
        name: "step05-fetch",
        title: "Step 5: one connection, a future; each poll goes as far as it can, then returns Pending",
        file: "step05-futures/src/fetch.rs",
        enum_name: "State",
        states: &[
            State {
                variant: "Connecting",
                holds: "(Connect)",
                stays: "Pending: the Connect left the waker with the reactor",
                next: "Ready(Ok(stream)): record connected",
            },
            State {
                variant: "Writing",
                holds: "{ stream, written }",
                stays: "part written: write again; or Pending, waker left for Write",
                next: "all of the request written",
            },
            State {
                variant: "Reading",
                holds: "{ stream }",
                stays: "bytes fed to the check: read again; or Pending, waker left for Read",
                next: "end-of-file: the response is checked",
            },
            State {
                variant: "Done",
                holds: "",
                stays: "polled again: a bug, it panics",
                next: "",
            },
        ],
        failure: "the deadline's Sleep is Ready, or an error: the connection fails (and is Done)",
    },
];

/// The variants of `enum enum_name` in `source`, in order: the identifiers that open a line at
/// the enum's first level of nesting.
pub fn variants(source: &str, enum_name: &str) -> Vec<String> {
    let Some(start) = source.lines().position(|line| {
        line.trim_start().trim_start_matches("pub ") == format!("enum {enum_name} {{")
    }) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut depth = 1;
    for line in source.lines().skip(start + 1) {
        let trimmed = line.trim();
        if depth == 1 && !trimmed.starts_with("//") && !trimmed.starts_with('#') {
            let name: String = trimmed
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                found.push(name);
            }
        }
        depth += line.matches(['{', '(']).count() as i32;
        depth -= line.matches(['}', ')']).count() as i32;
        if depth <= 0 {
            break;
        }
    }
    found
}

/// Draws `figure`: the states as boxes top to bottom, the way on as arrows down, what keeps a
/// state as a loop on its right, and the early end on the left.
pub fn svg(figure: &Figure) -> String {
    const LEFT: i32 = 230;
    const BOX_W: i32 = 220;
    const BOX_H: i32 = 44;
    const STEP: i32 = 96;
    const TOP: i32 = 60;
    // Where the early ends run down, left of the boxes.
    const RAIL: i32 = LEFT - 40;
    let n = figure.states.len() as i32;
    let ends_in_done = figure.states.last().is_some_and(|s| !s.next.is_empty());
    // Room at the bottom for the "done" and "failed" ends.
    let height = TOP + STEP * n + 50;
    // Room on the right for the longest loop label, at about 6.5 px a character.
    let longest = figure
        .states
        .iter()
        .map(|s| s.stays.len())
        .max()
        .unwrap_or(0) as i32;
    let width = LEFT + BOX_W + 70 + longest * 13 / 2;
    let mut svg = Svg::new(width, height, 12);
    svg.element(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>"##,
    );
    svg.text(10, 24, r#"font-size="14" font-weight="bold""#, figure.title);
    let arrow = r##"stroke="#555" marker-end="url(#arrow)""##;
    let small = r##"fill="#333" font-size="11""##;
    for (i, state) in figure.states.iter().enumerate() {
        let y = TOP + STEP * i as i32;
        svg.rect(
            LEFT,
            y,
            BOX_W,
            BOX_H,
            r##"rx="8" fill="#e8eef8" stroke="#3b6ea5""##,
        );
        let label = format!("{} {}", state.variant, state.holds);
        svg.text(
            LEFT + BOX_W / 2,
            y + 27,
            r#"text-anchor="middle" font-size="13" font-weight="bold""#,
            label.trim_end(),
        );
        // What keeps it here: a loop on the right side of the box.
        let (rx, top_y, bottom_y) = (LEFT + BOX_W, y + 12, y + BOX_H - 12);
        svg.element(&format!(
            r##"<path d="M{rx},{top_y} C{},{} {},{} {rx},{bottom_y}" fill="none" {arrow}/>"##,
            rx + 46,
            top_y - 10,
            rx + 46,
            bottom_y + 10
        ));
        svg.text(rx + 54, y + BOX_H / 2 + 4, small, state.stays);
        // The way on: an arrow down to the next state (or to the end), with what moves it.
        if !state.next.is_empty() {
            let x = LEFT + BOX_W / 2;
            svg.line((x, y + BOX_H), (x, y + STEP - 2), arrow);
            svg.text(x + 8, y + BOX_H + 30, small, state.next);
        }
        // The early end: from every state but a final one, a line out to the rail on the left.
        if !state.next.is_empty() || i + 1 < figure.states.len() {
            let plain = r##"stroke="#a33""##;
            svg.line((LEFT, y + BOX_H / 2), (RAIL, y + BOX_H / 2), plain);
        }
    }
    // The rail: every early end runs down it to "failed", beside "done".
    let failed_y = TOP + STEP * n;
    let red_arrow = r##"stroke="#a33" marker-end="url(#arrow)""##;
    svg.line((RAIL, TOP + BOX_H / 2), (RAIL, failed_y - 2), red_arrow);
    let pill = r##"rx="14" fill="#f7e3e3" stroke="#a33""##;
    svg.rect(RAIL - 40, failed_y, 80, 28, pill);
    let centred = r##"text-anchor="middle" font-weight="bold" fill="#a33""##;
    svg.text(RAIL, failed_y + 18, centred, "failed");
    if ends_in_done {
        let y = TOP + STEP * n;
        let pill = r##"rx="14" fill="#e7f3e7" stroke="#3a8a3a""##;
        svg.rect(LEFT + BOX_W / 2 - 40, y, 80, 28, pill);
        let centred = r#"text-anchor="middle" font-weight="bold""#;
        svg.text(LEFT + BOX_W / 2, y + 18, centred, "done");
    }
    let failure_x = RAIL - 6;
    let end = r##"text-anchor="end" fill="#a33" font-size="11""##;
    for (i, part) in wrap(figure.failure, 28).iter().enumerate() {
        svg.text(failure_x, TOP + 18 + 14 * i as i32, end, part);
    }
    svg.finish()
}

/// `text` cut into lines of at most about `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every figure's states are its enum's variants, in the enum's order: none missing, none
    /// invented. (A renamed or added state fails here until the figure follows.)
    #[test]
    fn every_figure_matches_its_enum() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        for figure in FIGURES {
            let path = format!("{root}/{}", figure.file);
            let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let in_code = variants(&source, figure.enum_name);
            let drawn: Vec<&str> = figure.states.iter().map(|s| s.variant).collect();
            assert_eq!(in_code, drawn, "{}: the figure's states", figure.name);
        }
    }

    /// The parser reads variants at the enum's top level only, past doc comments, attributes
    /// and fields.
    #[test]
    fn variants_are_read_from_the_top_level() {
        let source = "/// doc\npub enum State {\n    /// a\n    A,\n    #[allow(x)]\n    B {\n        /// f\n        f: usize,\n    },\n    C(Inner),\n}\nenum Other { X }\n";
        assert_eq!(variants(source, "State"), ["A", "B", "C"]);
        assert!(variants(source, "Missing").is_empty());
    }

    /// Each figure draws each of its states and each of its labels.
    #[test]
    fn the_drawing_names_every_state() {
        for figure in FIGURES {
            let image = svg(figure);
            assert!(image.starts_with("<svg") && image.ends_with("</svg>\n"));
            for state in figure.states {
                assert!(image.contains(state.variant), "{}", state.variant);
            }
        }
    }
}
