//! Chapter 7's figure of the two stacks: the OS thread's own stack, where the hub runs, and a
//! green thread's stack, at the moment the green thread waits in a socket `read`, with the two
//! switches between them. Each frame of our own code names a function in a file of step 7, and
//! a test checks that every one of them is there, so the figure cannot name a function the
//! code no longer has.

use testbed::svg::Svg;

/// A frame of a stack, as drawn: the function, and where it is (`None`: corosensei's, or std's).
pub struct Frame {
    /// What is drawn.
    pub label: &'static str,
    /// The file of step 7 that holds it, and the function's name there, if it is ours.
    pub source: Option<(&'static str, &'static str)>,
}

/// A frame of our code in `file`, function `name`.
const fn ours(label: &'static str, file: &'static str, name: &'static str) -> Frame {
    Frame {
        label,
        source: Some((file, name)),
    }
}

/// A frame of a library's code.
const fn theirs(label: &'static str) -> Frame {
    Frame {
        label,
        source: None,
    }
}

/// The OS thread's stack, from the bottom (oldest frame) up.
pub const HUB_STACK: &[Frame] = &[
    theirs("main"),
    ours(
        "run_with_stack: the hub's loop",
        "src/green/hub.rs",
        "run_with_stack",
    ),
    ours("resume(id)", "src/green/hub.rs", "resume"),
    theirs("Coroutine::resume (corosensei)"),
];

/// A green thread's stack, from the bottom up, waiting in `read`.
pub const GREEN_STACK: &[Frame] = &[
    theirs("corosensei's first frame"),
    ours("the closure of try_spawn", "src/green/hub.rs", "try_spawn"),
    ours("fetch (step 1's, unchanged)", "src/fetch.rs", "fetch"),
    ours("exchange", "src/fetch.rs", "exchange"),
    ours("Read::read for &TcpStream", "src/green/net.rs", "read"),
    ours("Socket::blocking", "src/green/net.rs", "blocking"),
    ours("park_until", "src/green/hub.rs", "park_until"),
    ours("switch_to_hub", "src/green/switch.rs", "switch_to_hub"),
    theirs("Yielder::suspend (corosensei)"),
];

/// Draws the two stacks side by side, growing upwards, with the switches between their tops.
pub fn svg() -> String {
    const W: i32 = 240;
    const H: i32 = 30;
    const HUB_X: i32 = 40;
    const GREEN_X: i32 = 620;
    let rows = GREEN_STACK.len().max(HUB_STACK.len()) as i32;
    let bottom = 110 + rows * H;
    let (width, height) = (GREEN_X + W + 40, bottom + 90);
    let mut svg = Svg::new(width, height, 12);
    svg.element(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>"##,
    );
    let bold = r#"font-size="14" font-weight="bold""#;
    svg.text(10, 24, bold, "Step 7: two stacks, one thread");
    let grey = r##"fill="#555" font-size="11""##;
    svg.text(
        10,
        42,
        grey,
        "A green thread waits in read: its frames stay on its own stack; the hub runs on the thread's.",
    );
    let mut top_of = |x: i32, frames: &[Frame], heading: &str, fill: &str| -> i32 {
        svg.text(x, 80, r#"font-weight="bold""#, heading);
        for (i, frame) in frames.iter().enumerate() {
            let y = bottom - H * (i as i32 + 1);
            let style = format!(r##"fill="{fill}" stroke="#888""##);
            svg.rect(x, y, W, H - 2, &style);
            let ours = if frame.source.is_some() {
                r#"font-weight="bold""#
            } else {
                r##"fill="#555""##
            };
            svg.text(x + 8, y + 19, ours, frame.label);
        }
        svg.text(x, bottom + 18, grey, "stack bottom (oldest frame)");
        bottom - H * frames.len() as i32
    };
    let hub_top = top_of(
        HUB_X,
        HUB_STACK,
        "the OS thread's stack: the hub",
        "#f4f6fa",
    );
    let green_top = top_of(
        GREEN_X,
        GREEN_STACK,
        "a green thread's stack (64 KiB)",
        "#eef6ee",
    );
    let arrow = r##"stroke="#3b6ea5" stroke-width="1.5" marker-end="url(#arrow)""##;
    let (left, right) = (HUB_X + W, GREEN_X);
    // resume: from the hub's top frame up to where the green thread stopped. Its label sits
    // above the arrows' right end, where they meet the green stack.
    svg.line((left, hub_top + 6), (right - 4, green_top + 6), arrow);
    let blue_end = r##"text-anchor="end" fill="#3b6ea5""##;
    svg.text(
        right - 10,
        green_top - 26,
        blue_end,
        "resume: load the green stack's rsp,",
    );
    svg.text(
        right - 10,
        green_top - 12,
        blue_end,
        "pop its registers, run on from there",
    );
    // suspend: from the green thread's top frame back down to resume, which returns. Its
    // label sits below the arrows' left end, where they meet the hub's stack.
    svg.line((right, green_top + 22), (left + 4, hub_top + 22), arrow);
    let blue = r##"fill="#3b6ea5""##;
    svg.text(
        left + 10,
        hub_top + 48,
        blue,
        "suspend: push its registers, load the",
    );
    svg.text(
        left + 10,
        hub_top + 62,
        blue,
        "hub's rsp: the hub's resume returns",
    );
    svg.text(
        10,
        bottom + 48,
        grey,
        "Bold frames are step 7's code (held to the source by a test); grey ones are corosensei's or std's.",
    );
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every frame of ours names a function that exists in the file it names.
    #[test]
    fn every_frame_of_ours_is_in_the_code() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../step07-green-threads");
        for frame in HUB_STACK.iter().chain(GREEN_STACK) {
            let Some((file, name)) = frame.source else {
                continue;
            };
            let path = format!("{root}/{file}");
            let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(
                source.contains(&format!("fn {name}(")) || source.contains(&format!("fn {name}<")),
                "{path} has no fn {name} (the figure's frame \"{}\")",
                frame.label
            );
        }
    }

    /// The drawing shows every frame.
    #[test]
    fn the_drawing_shows_every_frame() {
        let image = svg();
        for frame in HUB_STACK.iter().chain(GREEN_STACK) {
            let drawn = testbed::svg::escape(frame.label);
            assert!(image.contains(&drawn), "{}", frame.label);
        }
    }
}
