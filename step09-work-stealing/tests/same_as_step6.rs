//! The claim of chapter 9: the async code is step 6's, and the only lines that differ are the
//! ones that running on many threads forces. Each region the book shows is compared line by
//! line (`similar`'s diff) with step 6's; every difference must be on the list below, and every
//! entry of the list must still be a difference.

use similar::{ChangeTag, TextDiff};

/// The text between `// ANCHOR: name` and `// ANCHOR_END: name` in `crate_dir/src/file`.
fn region(crate_dir: &str, file: &str, name: &str) -> String {
    let path = format!("{}/../{crate_dir}/src/{file}", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = format!("// ANCHOR: {name}\n");
    let end = format!("// ANCHOR_END: {name}\n");
    let from = source
        .find(&start)
        .unwrap_or_else(|| panic!("{path}: no {start}"))
        + start.len();
    let to = source[from..]
        .find(&end)
        .unwrap_or_else(|| panic!("{path}: no {end}"))
        + from;
    source[from..to].to_string()
}

/// Compares region `name` of `file` in step 6 (`-`) and step 9 (`+`) against `forced`.
fn check(file: &str, name: &str, forced: &[&str]) {
    let step6 = region("step06-async-await", file, name);
    let step9 = region("step09-work-stealing", file, name);
    let found: Vec<String> = TextDiff::from_lines(&step6, &step9)
        .iter_all_changes()
        .filter_map(|change| match change.tag() {
            ChangeTag::Equal => None,
            ChangeTag::Delete => Some(format!("- {}", change.value().trim())),
            ChangeTag::Insert => Some(format!("+ {}", change.value().trim())),
        })
        .collect();
    assert_eq!(
        found,
        forced,
        "`{name}` in {file} differs from step 6's in other ways than listed:\n{}",
        TextDiff::from_lines(&step6, &step9)
            .unified_diff()
            .header("step 6", "step 9")
    );
}

#[test]
fn the_connection_is_step_6s_code() {
    check("fetch.rs", "exchange", &[]);
    check("fetch.rs", "fetch", &[]);
}

#[test]
fn the_fan_out_differs_only_by_arc() {
    check(
        "fan_out.rs",
        "run",
        // ANCHOR: fan_out_difference
        &[
            // Tasks that may move between threads share through an Arc.
            "- .map(|permits| Rc::new(Semaphore::new(permits)));",
            "+ .map(|permits| Arc::new(Semaphore::new(permits)));",
        ],
        // ANCHOR_END: fan_out_difference
    );
    check("fan_out.rs", "misbehave", &[]);
}

#[test]
fn the_echo_server_differs_only_by_the_budget() {
    check(
        "echo.rs",
        "echo",
        &[
            // Step 6 yields by hand; the budget makes a busy connection yield by itself.
            "- for round in 1.. {",
            "+ loop {",
            "- // A client that keeps this socket busy would keep every other connection waiting:",
            "- // now and then, let the others run.",
            "- if round % 32 == 0 {",
            "- yield_now().await;",
            "- }",
            "+ // No `yield_now` here: the budget makes a busy connection yield by itself.",
        ],
    );
}
