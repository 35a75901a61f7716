//! `--trace`: a line for each step a connection takes through the machinery (registered,
//! event, wake, poll, ready), so the loop can be watched turning.

use std::cell::Cell;
use std::time::Instant;

thread_local! {
    /// When tracing started, if it is on.
    static SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Turns tracing on for this thread.
pub fn enable() {
    SINCE.with(|since| since.set(Some(Instant::now())));
}

/// Whether tracing is on.
pub fn enabled() -> bool {
    SINCE.with(|since| since.get().is_some())
}

/// Prints one trace line, with the milliseconds since tracing started.
pub fn line(message: std::fmt::Arguments<'_>) {
    if let Some(since) = SINCE.with(Cell::get) {
        println!("{:9.3} ms  {message}", since.elapsed().as_secs_f64() * 1e3);
    }
}

/// `trace!("...", args)`: a trace line, formatted only when tracing is on. `trace!(poll
/// TASK; ...)` and `trace!(wake TASK; ...)` also mark the task's poll or wake for a trace
/// file (`--trace-file`; `None` is the main future).
macro_rules! trace {
    (poll $task:expr; $($arg:tt)*) => {{
        testbed::trace_file::mark(testbed::trace_file::Mark::Poll, $task);
        $crate::trace::trace!($($arg)*)
    }};
    (wake $task:expr; $($arg:tt)*) => {{
        testbed::trace_file::mark(testbed::trace_file::Mark::Wake, $task);
        $crate::trace::trace!($($arg)*)
    }};
    ($($arg:tt)*) => {
        if $crate::trace::enabled() {
            $crate::trace::line(format_args!($($arg)*));
        }
    };
}

pub(crate) use trace;
