//! Every interop case, run against a local delay server: whose I/O, on whose executor, and
//! what happened.
//!
//! ```text
//! cargo run --release -p interop [-- --svg FILE [--caption LINE]...]
//! ```
//!
//! With `--svg`, the same run is also drawn: who turns which reactor, beside each verdict.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use testbed::Workload;

/// The command line: where to draw the figure, if anywhere, and its caption.
struct Options {
    svg: Option<String>,
    caption: Vec<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        svg: None,
        caption: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--svg", Some(file)) => options.svg = Some(file),
            ("--caption", Some(line)) => options.caption.push(line),
            _ => return Err(format!("unexpected argument {flag:?}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("interop: error: {e}\nusage: interop [--svg FILE [--caption LINE]...]");
            return ExitCode::from(2);
        }
    };
    let (_server, workload) = match Workload::zero_delay(1) {
        Ok(started) => started,
        Err(e) => {
            eprintln!("interop: error: starting the local server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let target = &workload.targets[0];
    // The panics are the point of some cases: print their messages in the table, not as
    // "thread panicked at" noise.
    std::panic::set_hook(Box::new(|_| {}));
    let mut runs = Vec::new();
    for case in interop::cases() {
        let verdict = (case.run)(target);
        println!("{} on {}\n    {verdict}", case.io, case.executor);
        runs.push((case, verdict));
    }
    if let Some(file) = options.svg {
        let caption: Vec<&str> = options.caption.iter().map(String::as_str).collect();
        let drawn = interop::figure::svg(&runs, "Who turns which reactor", &caption);
        if let Err(e) = std::fs::write(&file, drawn) {
            eprintln!("interop: error: writing the figure to {file}: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
