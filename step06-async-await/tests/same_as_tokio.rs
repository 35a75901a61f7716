//! The claim of `on_tokio.rs`, checked: it mirrors `fetch.rs`, `fan_out.rs` and `echo.rs`
//! item for item, and the only lines that differ are the ones tokio forces. Each region the
//! book shows is compared line by line (`similar`'s diff); every difference must be on the list
//! below, and every entry of the list must still be a difference. A change to one side that is
//! not made to the other fails here, with the diff.

use similar::{ChangeTag, TextDiff};

/// The text between `// ANCHOR: name` and `// ANCHOR_END: name` in `file` (under `src/`).
fn region(file: &str, name: &str) -> String {
    let path = format!("{}/src/{file}", env!("CARGO_MANIFEST_DIR"));
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

/// The lines of ours (`-`) and tokio's (`+`) that differ, trimmed, in order.
fn differences(ours: &str, tokio: &str) -> Vec<String> {
    TextDiff::from_lines(ours, tokio)
        .iter_all_changes()
        .filter_map(|change| match change.tag() {
            ChangeTag::Equal => None,
            ChangeTag::Delete => Some(format!("- {}", change.value().trim())),
            ChangeTag::Insert => Some(format!("+ {}", change.value().trim())),
        })
        .collect()
}

/// Compares one region of ours with tokio's, against the differences tokio forces.
fn check(file: &str, name: &str, forced: &[&str]) {
    let (ours, tokio) = (region(file, name), region("on_tokio.rs", name));
    let found = differences(&ours, &tokio);
    assert_eq!(
        found,
        forced,
        "`{name}` in {file} and on_tokio.rs differ in other ways than tokio forces:\n{}",
        TextDiff::from_lines(&ours, &tokio)
            .unified_diff()
            .header(file, "on_tokio.rs")
    );
}

#[test]
fn the_connection_is_the_same_code() {
    check("fetch.rs", "exchange", &[]);
    check("fetch.rs", "fetch", &[]);
}

#[test]
fn the_fan_out_differs_only_where_tokio_forces_it() {
    check(
        "fan_out.rs",
        "run",
        &[
            // Tasks that may move between threads share through an Arc.
            "- .map(|permits| Rc::new(Semaphore::new(permits)));",
            "+ .map(|permits| Arc::new(Semaphore::new(permits)));",
            // tokio's semaphore can be closed: acquire returns a Result.
            "- Some(semaphore) => Some(semaphore.acquire().await),",
            "+ Some(semaphore) => Some(",
            "+ semaphore",
            "+ .acquire()",
            "+ .await",
            "+ .expect(\"the semaphore is never closed\"),",
            "+ ),",
            // tokio's JoinHandle returns a Result: the task may have panicked.
            "- let results = join_all(tasks).await;",
            "+ let results = join_all(tasks)",
            "+ .await",
            "+ .into_iter()",
            "+ .map(|joined| joined.expect(\"a connection task panicked\"))",
            "+ .collect();",
            "- Some(task) => Some(task.await),",
            "+ Some(task) => Some(task.await.expect(\"the blocking task panicked\")),",
        ],
    );
    check(
        "fan_out.rs",
        "misbehave",
        &[
            // tokio's blocking pool, in place of ours.
            "- let _ = spawn_blocking(move || std::thread::sleep(duration)).await;",
            "+ let _ = tokio::task::spawn_blocking(move || std::thread::sleep(duration)).await;",
        ],
    );
}

#[test]
fn the_echo_server_differs_only_where_tokio_forces_it() {
    check(
        "echo.rs",
        "echo",
        &[
            // Ours yields by hand; tokio's budget makes a busy connection yield by itself.
            "- for round in 1.. {",
            "+ loop {",
            "- // A client that keeps this socket busy would keep every other connection waiting:",
            "- // now and then, let the others run.",
            "- if round % 32 == 0 {",
            "- yield_now().await;",
            "- }",
            "+ // No `yield_now` here: tokio's budget makes a busy connection yield by itself.",
            // tokio's accept takes &self; step 5's, &mut self.
            "- async fn serve(mut listener: TcpListener) {",
            "+ async fn serve(listener: TcpListener) {",
        ],
    );
}
