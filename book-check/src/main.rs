//! `book-check`'s command line: the book's generator (`book/generate.sh`) uses it to turn
//! benchmark results into tables, and a step 5 trace into the lifecycle diagram.
//!
//! ```text
//! cargo run -p book-check -- criterion-table target/criterion/step03-select_wait \
//!     --columns select,poll,epoll --row-label "idle descriptors"
//! ```
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: book-check criterion-table GROUP_DIR [--columns A,B,...] [--row-label TEXT]\n\
         \x20      book-check lifecycle [--one-wake] --title TEXT [--caption LINE]... < TRACE > SVG\n\
         \x20      book-check batches --title TEXT [--caption LINE]... < TRACE > SVG\n\
         \x20      book-check states NAME > SVG   (NAME: step02-connection, step05-fetch)\n\
         \x20      book-check stacks > SVG"
    );
    ExitCode::from(2)
}

/// What a figure drawn from a trace is given: `--title`, `--caption` lines, the switches it
/// knows (`flags`) that were passed, and the trace on stdin. `Err` with the exit code to
/// return when something is wrong (after saying what).
struct FigureInput {
    title: String,
    caption: Vec<String>,
    switches: Vec<String>,
    trace: String,
}

impl FigureInput {
    fn read(
        mut args: impl Iterator<Item = String>,
        flags: &[&str],
    ) -> Result<FigureInput, ExitCode> {
        let (mut title, mut caption, mut switches) = (String::new(), Vec::new(), Vec::new());
        while let Some(flag) = args.next() {
            if flags.contains(&flag.as_str()) {
                switches.push(flag);
                continue;
            }
            match (flag.as_str(), args.next()) {
                ("--title", Some(text)) => title = text,
                ("--caption", Some(line)) => caption.push(line),
                _ => return Err(usage()),
            }
        }
        let mut trace = String::new();
        if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut trace) {
            eprintln!("book-check: error: reading the trace from stdin: {e}");
            return Err(ExitCode::from(1));
        }
        Ok(FigureInput {
            title,
            caption,
            switches,
            trace,
        })
    }

    fn caption(&self) -> Vec<&str> {
        self.caption.iter().map(String::as_str).collect()
    }
}

/// `lifecycle`: step 5's `--trace` output on stdin, the lifecycle diagram on stdout (with
/// `--one-wake`, only the wait for the response).
fn lifecycle(args: impl Iterator<Item = String>) -> ExitCode {
    let input = match FigureInput::read(args, &["--one-wake"]) {
        Ok(input) => input,
        Err(code) => return code,
    };
    let one_wake = !input.switches.is_empty();
    let all = book_check::lifecycle::events(&input.trace);
    let events = if one_wake {
        book_check::lifecycle::one_wake(&all)
    } else {
        &all[..]
    };
    if events.is_empty() {
        eprintln!(
            "book-check: error: no trace lines of connection 0{} on stdin (run step 5 with --trace)",
            if one_wake {
                " from its request to its response"
            } else {
                ""
            }
        );
        return ExitCode::from(1);
    }
    let svg = book_check::lifecycle::svg(events, &input.title, &input.caption());
    print!("{svg}");
    ExitCode::SUCCESS
}

/// `batches`: step 8's `--trace` output on stdin, the two queues' figure on stdout.
fn batches(args: impl Iterator<Item = String>) -> ExitCode {
    let input = match FigureInput::read(args, &[]) {
        Ok(input) => input,
        Err(code) => return code,
    };
    let found = book_check::batches::batches(&input.trace);
    if found.is_empty() {
        eprintln!("book-check: error: no ring lines on stdin (run step 8 with --trace)");
        return ExitCode::from(1);
    }
    print!(
        "{}",
        book_check::batches::svg(&found, &input.title, &input.caption())
    );
    ExitCode::SUCCESS
}

/// `states NAME`: the state-machine figure NAME on stdout.
fn states(mut args: impl Iterator<Item = String>) -> ExitCode {
    let name = args.next().unwrap_or_default();
    match book_check::states::FIGURES.iter().find(|f| f.name == name) {
        Some(figure) => {
            print!("{}", book_check::states::svg(figure));
            ExitCode::SUCCESS
        }
        None => usage(),
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("criterion-table") => {}
        Some("lifecycle") => return lifecycle(args),
        Some("batches") => return batches(args),
        Some("states") => return states(args),
        Some("stacks") => {
            print!("{}", book_check::stacks::svg());
            return ExitCode::SUCCESS;
        }
        _ => return usage(),
    }
    let Some(group_dir) = args.next().map(PathBuf::from) else {
        return usage();
    };
    let (mut columns, mut row_label) = (Vec::new(), "parameter".to_string());
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--columns", Some(list)) => columns = list.split(',').map(str::to_string).collect(),
            ("--row-label", Some(label)) => row_label = label,
            _ => return usage(),
        }
    }
    match book_check::criterion_table::table(&group_dir, &columns, &row_label) {
        Ok(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("book-check: error: {e}");
            ExitCode::from(1)
        }
    }
}
