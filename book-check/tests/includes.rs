//! Every `{{#include}}` in the book points at an existing file and anchor; and the check
//! really catches the mistakes it is for.

use std::fs;
use std::path::Path;

use book_check::{check_book, find_includes};

/// The real book: no include may point nowhere.
#[test]
fn every_include_in_the_book_resolves() {
    let book_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src");
    let problems = check_book(&book_src).expect("read book/src");
    let report: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        problems.is_empty(),
        "broken includes in the book:\n{}",
        report.join("\n")
    );
}

/// A missing file, a missing anchor, a missing end marker, a line-number include and a missing
/// image are each reported; a good include and a good or remote image are not.
#[test]
fn each_kind_of_mistake_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(
        dir.path().join("code.rs"),
        "// ANCHOR: good\nfn good() {}\n// ANCHOR_END: good\n// ANCHOR: open\nfn open() {}\n",
    )
    .unwrap();
    fs::write(src.join("figure.svg"), "<svg/>").unwrap();
    fs::write(
        src.join("chapter.md"),
        "# Chapter\n\
         {{#include ../code.rs:good}}\n\
         {{#include ../missing.rs:good}}\n\
         {{#include ../code.rs:gone}}\n\
         {{#include ../code.rs:open}}\n\
         {{#include ../code.rs:2:3}}\n\
         {{#rustdoc_include ../code.rs}}\n\
         ![a figure](figure.svg) ![from the web](https://example.com/x.png) ![gone](missing.svg)\n",
    )
    .unwrap();
    let problems = check_book(&src).unwrap();
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 8], "{problems:#?}");
    assert!(problems[0].why.contains("no such file"));
    assert!(problems[1].why.contains("no `ANCHOR: gone`"));
    assert!(problems[2].why.contains("no `ANCHOR_END: open`"));
    assert!(problems[3].why.contains("line numbers"));
    assert!(problems[4].why.contains("no such image") && problems[4].why.contains("missing.svg"));
}

/// A link to a missing page or to a heading that is not there, and a path to a file that does
/// not exist, are each reported; good ones are not, and nothing inside code blocks counts.
#[test]
fn broken_links_and_paths_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("book/src");
    fs::create_dir_all(&src).unwrap();
    fs::create_dir_all(dir.path().join("step01-x/src")).unwrap();
    fs::write(dir.path().join("step01-x/src/lib.rs"), "").unwrap();
    fs::write(
        src.join("other.md"),
        "# Other\n\n## What `.await` does, really\n\n```python\n# not a heading\n```\n",
    )
    .unwrap();
    fs::write(
        src.join("chapter.md"),
        "# Chapter\n\
         [good](other.md#what-await-does-really) [top](#chapter) [web](https://x.org/a.md#b)\n\
         [gone](missing.md) [no such heading](other.md#not-a-heading)\n\
         `step01-x/src/lib.rs` and `step01-x/src/gone.rs` and `not-a-dir/x.rs`\n\
         ```text\n[in code](nowhere.md) `step01-x/src/also-gone.rs`\n```\n",
    )
    .unwrap();
    let problems = check_book(&src).unwrap();
    let found: Vec<(usize, &str)> = problems
        .iter()
        .map(|p| (p.line, p.include.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (3, "(missing.md)"),
            (3, "(other.md#not-a-heading)"),
            (4, "`step01-x/src/gone.rs`")
        ],
        "{problems:#?}"
    );
}

/// mdBook's heading ids: punctuation and backticks dropped, spaces to dashes.
#[test]
fn heading_ids_are_mdbooks() {
    assert_eq!(
        book_check::heading_id("`.await` is where tasks switch"),
        "await-is-where-tasks-switch"
    );
    assert_eq!(
        book_check::heading_id("Step 1's code, on green threads"),
        "step-1s-code-on-green-threads"
    );
}

/// Several directives on one line are all found, with their selectors; escaped ones are not.
#[test]
fn finds_every_directive_on_a_line() {
    let found = find_includes(
        r"a {{#include x.rs:one}} b {{ #not }} \{{#include escaped.rs}} {{#include y.rs}}",
    );
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].selector.as_deref(), Some("one"));
    assert_eq!(
        (found[1].path.as_str(), found[1].selector.as_deref()),
        ("y.rs", None)
    );
}

/// Criterion's estimates become a table: one row per parameter (numeric order), one column per
/// function (in the order asked), medians in readable units, gaps marked.
#[test]
fn criterion_estimates_become_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let write = |function: &str, parameter: &str, median: f64| {
        let path = dir.path().join(function).join(parameter).join("new");
        fs::create_dir_all(&path).unwrap();
        let json = format!(
            r#"{{"mean":{{"point_estimate":1.0}},"median":{{"point_estimate":{median}}}}}"#
        );
        fs::write(path.join("estimates.json"), json).unwrap();
    };
    write("poll", "10", 4500.0);
    write("poll", "100", 34_000.0);
    write("select", "10", 900.0);
    write("epoll", "100", 2_500_000.0);
    fs::create_dir_all(dir.path().join("report")).unwrap();
    let columns = ["select".to_string(), "poll".to_string()];
    let table = book_check::criterion_table::table(dir.path(), &columns, "K").unwrap();
    assert_eq!(
        table,
        "| K | select | poll | epoll |\n|---:|---:|---:|---:|\n| 10 | 900 ns | 4.5 µs | n/a |\n| 100 | n/a | 34.0 µs | 2.5 ms |\n"
    );
}

/// Commands the book gives that the generator's check mode does not run, and why each is fine.
const NOT_RUN_BY_THE_GENERATOR: &[(&str, &str)] = &[
    (
        "cargo test",
        "CI runs `cargo test --workspace`, which includes every narrower `cargo test`",
    ),
    (
        "cargo +nightly miri test",
        "CI's Miri stage runs it when a nightly toolchain is present",
    ),
    (
        "cargo build",
        "the generator builds the whole workspace first",
    ),
    ("cargo fmt", "a CI stage"),
    ("cargo clippy", "a CI stage"),
    ("cargo check", "a CI stage, with the minimum Rust version"),
    ("cargo bench --workspace --no-run", "a CI stage"),
    (
        "cargo install mdbook",
        "CI installs mdbook when it is missing",
    ),
    (
        "mdbook serve book",
        "CI builds the book with `mdbook build book`",
    ),
    ("mdbook build book", "a CI stage"),
    (
        "cargo run -p book-browser",
        "a CI stage: the built book in a browser, and its self-test",
    ),
    (
        "cargo install mdbook-i18n-helpers",
        "CI installs it when it is missing, for the Chinese edition",
    ),
    (
        "bash book/po/update.sh",
        "a CI stage: the Chinese edition kept whole",
    ),
    (
        "MDBOOK_BOOK__LANGUAGE=zh-CN mdbook",
        "a CI stage builds the Chinese edition",
    ),
    (
        "bash book/po/build.sh",
        "a CI stage builds the Chinese edition",
    ),
    (
        "python3 -m http.server",
        "serving the built book: the browser check serves and opens every page",
    ),
    (
        "cargo run -p <step>",
        "a template: the reader fills in a step",
    ),
    (
        "cargo run --release -p <step>",
        "a template, against a real server of the reader's choice",
    ),
];

/// Every command the book and the README tell the reader to run is one the generator runs
/// (and so `generate.sh --check` checks in CI), or is on the short list above, with its reason.
#[test]
fn every_command_the_book_gives_is_checked() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = fs::read_to_string(root.join("book/generate.sh")).unwrap();
    let mut pages: Vec<_> = fs::read_dir(root.join("book/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.push(root.join("README.md"));
    pages.sort();
    let mut unchecked = Vec::new();
    let mut seen = 0;
    for page in &pages {
        let text = fs::read_to_string(page).unwrap();
        for (line, command) in book_check::find_commands(&text) {
            seen += 1;
            let exempt = NOT_RUN_BY_THE_GENERATOR.iter().any(|(prefix, _)| {
                command == *prefix || command.starts_with(&format!("{prefix} "))
            });
            if command != "cargo run" && !exempt && !book_check::script_runs(&script, &command) {
                unchecked.push(format!("{}:{line}: {command}", page.display()));
            }
        }
    }
    assert!(
        seen > 20,
        "found only {seen} commands: is find_commands broken?"
    );
    assert!(
        unchecked.is_empty(),
        "commands the book gives that book/generate.sh does not run (add them to its \
         mentioned_commands section, with a shape in book/shapes.txt):\n{}",
        unchecked.join("\n")
    );
}

/// Commands are found in typed code blocks and in backticks, without comments; the generator's
/// text matches whole commands only, across line continuations and inside quotes.
#[test]
fn commands_are_found_and_matched_whole() {
    let page = "Run `cargo run -p a -- --x` first.\n\n```console\n$ cargo run -p b   # the b step\nout\n```\n";
    let found = book_check::find_commands(page);
    assert_eq!(
        found,
        [
            (1, "cargo run -p a -- --x".to_string()),
            (4, "cargo run -p b".to_string())
        ]
    );
    let script =
        "transcript x 0 cargo run -p a -- \\\n    --x\nsession y 0 \"cargo run -p b\" 'client'\n";
    assert!(book_check::script_runs(script, "cargo run -p a -- --x"));
    assert!(book_check::script_runs(script, "cargo run -p b"));
    assert!(
        !book_check::script_runs(script, "cargo run -p a"),
        "a prefix is not the command"
    );
    assert!(!book_check::script_runs(script, "cargo run -p c"));
}

/// Every file the generator writes into book/src/output is shown by some chapter: an output no
/// chapter includes is left over from a command that is gone.
#[test]
fn every_generated_output_is_used() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src");
    let mut chapters = String::new();
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            chapters.push_str(&fs::read_to_string(path).unwrap());
        }
    }
    let unused: Vec<String> = fs::read_dir(src.join("output"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !chapters.contains(&format!("output/{name}")))
        .collect();
    assert!(unused.is_empty(), "outputs no chapter includes: {unused:?}");
}

/// The lifecycle diagram reads step 5's trace: each kind of line lands in its lane, in order,
/// with the kernel's implied part beside it; other connections and other lines are skipped; the
/// SVG has a dot per event and marks the long sleep. `one_wake` cuts out the wait for the
/// response: from the request written to the response read.
#[test]
fn a_trace_becomes_the_lifecycle() {
    use book_check::lifecycle::{Lane, events, one_wake, svg};
    let trace = "    0.990 ms  run queue: main future queued\n\
                 \x20   1.000 ms  executor: poll main future\n\
                 \x20   1.011 ms  connection 0: polled\n\
                 \x20   1.012 ms  connection 1: polled\n\
                 \x20   1.088 ms  reactor: socket registered as token 0.1\n\
                 \x20   1.091 ms  connect to 127.0.0.1:4: started\n\
                 not a trace line\n\
                 \x20   1.100 ms  connection 0: request written\n\
                 \x20   1.105 ms  reactor: token 0.1 not Read ready: keep the waker\n\
                 \x20   1.107 ms  run queue empty: turn the reactor, which sleeps in epoll_wait\n\
                 \x20  52.300 ms  reactor: epoll_wait returned 1 event\n\
                 \x20  52.314 ms  reactor: token 0.1 Read ready: hand back its waker\n\
                 \x20  52.320 ms  connection 0: done (ok)\n\
                 \x20  52.389 ms  reactor: token 0.1 deregistered\n\
                 \x20  52.400 ms  executor: poll main future\n";
    let found = events(trace);
    let lanes: Vec<Lane> = found.iter().map(|e| e.lane).collect();
    use Lane::*;
    assert_eq!(
        lanes,
        [
            Executor, Executor, Code, Reactor, Kernel, Code, Kernel, // to the connect
            Code, Kernel, Reactor, Code, Executor, Kernel, // the request, then the sleep
            Kernel, Reactor, Code, Reactor, Kernel, // the response, and the end
        ],
        "{found:#?}"
    );
    let drawn = svg(&found, "title", &["a caption"]);
    assert!(drawn.starts_with("<svg") && drawn.ends_with("</svg>\n"));
    assert_eq!(drawn.matches("<circle").count(), found.len());
    assert!(drawn.contains("51 ms: the thread sleeps in epoll_wait"));
    let wake: Vec<&str> = one_wake(&found).iter().map(|e| e.what.as_str()).collect();
    assert_eq!(wake.first(), Some(&"write(request)"), "{wake:#?}");
    assert_eq!(
        wake.last(),
        Some(&"read() to end-of-file: done"),
        "{wake:#?}"
    );
    assert_eq!(wake.len(), 9, "{wake:#?}");
    assert!(one_wake(&found[..5]).is_empty(), "no response, no wake");
}

/// Rust and Python listings are never typed into the book: every line of a `rust` or `python`
/// code block is an include (of compiled code, or of a program in book/python/ that
/// `generate.sh --check` compiles and runs).
#[test]
fn listings_are_included_never_typed() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src");
    let mut typed = Vec::new();
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let mut language: Option<String> = None;
        for (index, line) in text.lines().enumerate() {
            let fence = line.trim_start();
            if let Some(info) = fence.strip_prefix("```") {
                language = match language {
                    Some(_) => None,
                    None => Some(info.split(',').next().unwrap_or("").to_string()),
                };
                continue;
            }
            let listing = matches!(language.as_deref(), Some("rust" | "python"));
            if listing && !line.trim().is_empty() && !line.trim_start().starts_with("{{#include") {
                typed.push(format!("{}:{}: {line}", path.display(), index + 1));
            }
        }
    }
    assert!(
        typed.is_empty(),
        "listings typed into the book:\n{}",
        typed.join("\n")
    );
}

/// The two queues' figure reads step 8's trace: each io_uring_enter and each reaping, in order,
/// with their counts; other lines are skipped; the SVG has a bar per batch and marks the sleep.
#[test]
fn a_trace_becomes_the_two_queues() {
    use book_check::batches::{Batch, batches, svg};
    let trace = "    1.632 ms  ring: io_uring_enter hands over 41 entries and waits\n\
                 \x20   1.700 ms  executor: poll main future\n\
                 \x20   1.723 ms  ring: 20 completions reaped\n\
                 not a trace line\n\
                 \x20   1.803 ms  ring: io_uring_enter hands over 20 entries\n\
                 \x20  53.869 ms  ring: 10 completions reaped\n";
    let found = batches(trace);
    assert_eq!(
        found,
        [
            Batch::Enter {
                at_ms: 1.632,
                entries: 41,
                waits: true
            },
            Batch::Reaped {
                at_ms: 1.723,
                completions: 20
            },
            Batch::Enter {
                at_ms: 1.803,
                entries: 20,
                waits: false
            },
            Batch::Reaped {
                at_ms: 53.869,
                completions: 10
            },
        ]
    );
    let drawn = svg(&found, "title", &["a caption"]);
    assert!(drawn.starts_with("<svg") && drawn.ends_with("</svg>\n"));
    assert!(drawn.contains(">41 in, and wait<") && drawn.contains(">20 in<"));
    assert!(drawn.contains(">10 out<"));
    assert!(drawn.contains("52 ms: the thread sleeps in io_uring_enter"));
}
