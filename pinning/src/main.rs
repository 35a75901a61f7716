//! The examples of the Pin chapter:
//!
//! ```text
//! cargo run -p pinning -- unpinned     # move a polled Unpinned greeting: wrong bytes (UB)
//! cargo run -p pinning -- pinned       # the Pinned greeting, with pin! and with Box::pin
//! cargo run -p pinning -- sizes        # every future's size, and whether it is Unpin
//! cargo run -p pinning -- svg FILE     # the picture of the move, from this run's addresses
//! ```
//!
//! (No clap: the examples also run under Miri, which builds every dependency again.)
#![forbid(unsafe_code)]

use std::process::ExitCode;

use pinning::moved::{self, shown};
use pinning::project::Counted;
use pinning::sizes;

/// `println!`, except that a reader who stops reading (`... | head`) ends the program quietly,
/// with the status a shell gives a program ended by SIGPIPE, instead of a panic. (The step
/// binaries get this from the testbed; this crate has no dependencies, for Miri's sake.)
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(141);
            }
            panic!("cannot write to stdout: {e}");
        }
    }};
}

const USAGE: &str = "usage: pinning unpinned | pinned | sizes | svg FILE";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["unpinned"] => unpinned(),
        ["pinned"] => pinned(),
        ["sizes"] => table(),
        ["svg", file] => {
            let moved = moved::move_unpinned_after_first_poll();
            let caption = "Drawn from a real run: $ cargo run -p pinning -- svg FILE\n\
                           (the addresses change from run to run; the pointer's mistake does not)";
            if let Err(e) = std::fs::write(file, pinning::figure::svg(&moved, caption)) {
                eprintln!("pinning: cannot write {file}: {e}");
                return ExitCode::FAILURE;
            }
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// The unpinned greeting, moved after its first poll.
fn unpinned() {
    let moved = moved::move_unpinned_after_first_poll();
    say!(
        "first poll: buf at {:#x}, cursor set to {:#x}",
        moved.buf_before,
        moved.cursor
    );
    say!("moved (mem::swap): buf now at {:#x}", moved.buf_after);
    say!(
        "second poll: wrote \"world\" at {:#x}, the cursor: the old place",
        moved.cursor
    );
    say!(
        "the moved greeting returns:      {:?}",
        shown(&moved.output)
    );
    say!(
        "the greeting in the old place:   {:?}",
        shown(&moved.left_behind)
    );
}

/// The pinned greeting, on the stack and in a box.
fn pinned() {
    say!("pin!:      {:?}", moved::pinned_on_the_stack());
    let (greeting, addresses) = moved::pinned_in_a_box();
    let addresses: Vec<String> = addresses.iter().map(|a| format!("{a:#x}")).collect();
    say!(
        "Box::pin:  {greeting:?} (buf at {} on each poll)",
        addresses.join(", ")
    );
    let counted = Counted::new(pinning::greeting::Pinned::new());
    let (greeting, polls) = poll_to_end(counted);
    say!("Counted:   {greeting:?} after {polls} polls");
}

/// Polls a future to the end on this thread with a waker that does nothing (every future here
/// is ready to go on when it returns `Pending`).
fn poll_to_end<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Every future's size, and whether it is `Unpin`.
fn table() {
    say!("| future | size (bytes) | Unpin |");
    say!("|---|---:|---|");
    for row in sizes::table() {
        let unpin = if row.unpin { "yes" } else { "no" };
        say!("| `{}` | {} | {unpin} |", row.future, row.size);
    }
}
