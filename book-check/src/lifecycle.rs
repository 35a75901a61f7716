//! The lifecycle diagram: one connection's life, drawn from a real run of step 5 with `--trace`.
//!
//! Each trace line is something the reactor, the executor or the connection's own code did; the
//! kernel's part is what those lines imply (a `connect` that returns `EINPROGRESS`, an
//! `epoll_wait` that reports a socket ready). [`events`] turns the trace into events on four
//! lanes, in order; [`svg`] draws them, left to right, with the lanes labelled by what plays each
//! role in steps 3 to 6.

use testbed::svg::Svg;

/// The four roles, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// The connection's own code: what the programmer wrote.
    Code = 0,
    /// Whoever decides what runs next and runs it.
    Executor = 1,
    /// Whoever asks the kernel what is ready, and tells the waiting code.
    Reactor = 2,
    /// The operating system: sockets, TCP, epoll.
    Kernel = 3,
}

/// The lanes' titles, and what fills each role in steps 3 to 6.
const LANES: [(&str, &str); 4] = [
    (
        "your code",
        "step 3: Connection::visit · step 4: a callback · step 5: Fetch::poll · step 6: the async fn",
    ),
    (
        "who runs it",
        "step 3: the loop's for · step 4: the IoLoop · steps 5, 6: the executor",
    ),
    (
        "who waits for the kernel",
        "step 3: select/poll/epoll · step 4: the IoLoop · steps 5, 6: the reactor",
    ),
    ("the kernel", "sockets, the TCP handshake, epoll"),
];

/// One thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When, in ms since the run started (as the trace says).
    pub at_ms: f64,
    /// Who did it.
    pub lane: Lane,
    /// What, in a few words.
    pub what: String,
}

/// The events of the first connection in a step 5 `--trace` output (lines like
/// `   1.088 ms  reactor: socket registered as token 0.1`). Lines that are not trace lines, and
/// lines about other connections, are skipped.
pub fn events(trace: &str) -> Vec<Event> {
    let mut found = Vec::new();
    let mut push = |at_ms: f64, lane: Lane, what: &str| {
        found.push(Event {
            at_ms,
            lane,
            what: what.to_string(),
        })
    };
    for line in trace.lines() {
        let Some((time, text)) = line.trim_start().split_once(" ms  ") else {
            continue;
        };
        let Ok(at) = time.trim().parse::<f64>() else {
            continue;
        };
        if text.starts_with("run queue: ") && text.ends_with(" queued") {
            push(at, Lane::Executor, "the wake queues the task");
        } else if text.starts_with("executor: poll") {
            push(at, Lane::Executor, "polls the task");
        } else if text == "connection 0: polled" {
            push(at, Lane::Code, "poll: goes as far as it can");
        } else if text.starts_with("reactor: socket registered") {
            push(at, Lane::Reactor, "registers the socket");
            push(at, Lane::Kernel, "epoll_ctl(ADD)");
        } else if text.starts_with("connect to ") {
            push(at, Lane::Code, "connect(): EINPROGRESS");
            push(at, Lane::Kernel, "sends SYN");
        } else if text.starts_with("reactor: token") && text.ends_with("keep the waker") {
            push(at, Lane::Reactor, "not ready: keeps the waker");
            push(at, Lane::Code, "returns Pending");
        } else if text.starts_with("run queue empty") {
            push(at, Lane::Executor, "queue empty: turn()");
            push(at, Lane::Kernel, "epoll_wait: sleeps");
        } else if text.contains(" Write ready") {
            push(at, Lane::Kernel, "epoll_wait: writable");
            push(at, Lane::Reactor, "ready: hands back its waker");
        } else if text.starts_with("connection 0: connected") {
            push(at, Lane::Code, "connected: on to Writing");
        } else if text == "connection 0: request written" {
            push(at, Lane::Code, "write(request)");
            push(at, Lane::Kernel, "sends it; the server waits");
        } else if text.contains(" Read ready") {
            push(at, Lane::Kernel, "epoll_wait: readable");
            push(at, Lane::Reactor, "ready: hands back its waker");
        } else if text.starts_with("connection 0: done") {
            push(at, Lane::Code, "read() to end-of-file: done");
        } else if text.starts_with("reactor: token") && text.ends_with("deregistered") {
            push(at, Lane::Reactor, "deregisters the socket");
            push(at, Lane::Kernel, "epoll_ctl(DEL), close");
            break; // the connection's life is over
        }
    }
    found
}

/// The part of `events` that is one wake: from the request written (after which the connection
/// waits for the response) to the response read. Empty if the trace has no such part.
pub fn one_wake(events: &[Event]) -> &[Event] {
    let start = events.iter().position(|e| e.what == "write(request)");
    let end = events
        .iter()
        .position(|e| e.what.starts_with("read() to end-of-file"));
    match (start, end) {
        (Some(start), Some(end)) if start < end => &events[start..=end],
        _ => &[],
    }
}

/// Draws `events` as an SVG: one column per lane, one row per event (time flows down), an arrow
/// from each event to the next, and a marked gap where the thread slept (more than 5 ms between
/// two events). `caption` lines go under the title.
pub fn svg(events: &[Event], title: &str, caption: &[&str]) -> String {
    const LEFT: f64 = 70.0;
    const LANE: f64 = 200.0;
    const ROW: f64 = 30.0;
    const GAP: f64 = 44.0;
    const HEADER: f64 = 96.0;
    let top = 40.0 + 16.0 * caption.len() as f64 + 8.0;
    let first_row = top + HEADER + 20.0;
    // Where each event goes: one row each, plus a gap where the thread slept.
    let mut ys = Vec::with_capacity(events.len());
    let mut gaps = Vec::new();
    let mut y = first_row;
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            let waited = event.at_ms - events[i - 1].at_ms;
            if waited > 5.0 {
                gaps.push((y + (ROW + GAP) / 2.0, waited));
                y += GAP;
            }
            y += ROW;
        }
        ys.push(y);
    }
    let width = LEFT + 4.0 * LANE + 10.0;
    let height = y + 30.0;
    let lane_x = |lane: Lane| LEFT + lane as usize as f64 * LANE + 16.0;
    let mut svg = Svg::new(format_args!("{width:.0}"), format_args!("{height:.0}"), 12);
    svg.element(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>"##,
    );
    svg.text(10, 24, r#"font-size="16" font-weight="bold""#, title);
    for (i, line) in caption.iter().enumerate() {
        let y = format!("{:.0}", 42.0 + 16.0 * i as f64);
        svg.text(10, y, r##"fill="#555" font-size="11""##, line);
    }
    let whole = |v: f64| format!("{v:.0}");
    for (i, (name, who)) in LANES.iter().enumerate() {
        let x = LEFT + i as f64 * LANE;
        let fill = if i % 2 == 0 { "#f4f6fa" } else { "#fbfbfd" };
        let fill = format!(r#"fill="{fill}""#);
        svg.rect(
            whole(x),
            whole(top),
            whole(LANE),
            whole(height - top),
            &fill,
        );
        let bold = r#"font-size="13" font-weight="bold""#;
        svg.text(whole(x + 8.0), whole(top + 20.0), bold, name);
        // What plays this role in steps 3 to 6, one step per line.
        for (j, part) in who.split(" · ").enumerate() {
            let y = whole(top + 38.0 + 13.0 * j as f64);
            svg.text(whole(x + 8.0), y, r##"fill="#555" font-size="10""##, part);
        }
    }
    let small_grey = r##"fill="#777" font-size="10""##;
    svg.text(8, whole(first_row - 22.0), small_grey, "ms");
    for &(gy, waited) in &gaps {
        let dashed = r##"stroke="#999" stroke-dasharray="4 4""##;
        svg.line((whole(LEFT), whole(gy)), (whole(width), whole(gy)), dashed);
        let why = format!("{waited:.0} ms: the thread sleeps in epoll_wait while the server waits");
        let grey = r##"fill="#555" font-size="11""##;
        svg.text(whole(LEFT + 8.0), whole(gy - 5.0), grey, &why);
    }
    let tenth = |v: f64| format!("{v:.1}");
    // The arrows first, so that the dots and labels are drawn over them.
    for i in 1..events.len() {
        let (x, y) = (lane_x(events[i].lane), ys[i]);
        let (px, py) = (lane_x(events[i - 1].lane), ys[i - 1]);
        let (dx, dy) = (x - px, y - py);
        let length = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / length, dy / length);
        svg.line(
            (tenth(px + 8.0 * ux), tenth(py + 8.0 * uy)),
            (tenth(x - 9.0 * ux), tenth(y - 9.0 * uy)),
            r##"stroke="#888" marker-end="url(#arrow)""##,
        );
    }
    for (i, (event, &y)) in events.iter().zip(&ys).enumerate() {
        let x = lane_x(event.lane);
        svg.text(
            8,
            tenth(y + 4.0),
            small_grey,
            &format!("{:.3}", event.at_ms),
        );
        svg.element(&format!(
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="7" fill="#3b6ea5"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="white" font-size="9">{}</text>"##,
            y + 3.0,
            i + 1
        ));
        // A white halo around the letters keeps the label readable where an arrow crosses it.
        let halo = r#"stroke="white" stroke-width="4" paint-order="stroke""#;
        svg.text(tenth(x + 12.0), tenth(y + 4.0), halo, &event.what);
    }
    svg.finish()
}
