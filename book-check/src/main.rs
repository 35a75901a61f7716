//! `book-check`'s command line: the book's generator (`book/generate.sh`) uses it to turn
//! benchmark results into tables.
//!
//! ```text
//! cargo run -p book-check -- criterion-table target/criterion/step03-select_wait \
//!     --columns select,poll,epoll --row-label "idle descriptors"
//! ```
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: book-check criterion-table GROUP_DIR [--columns A,B,...] [--row-label TEXT]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some("criterion-table") {
        return usage();
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
