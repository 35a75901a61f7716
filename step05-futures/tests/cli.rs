//! The binary, as a reader runs it: output piped into a reader that stops early (`| head`)
//! ends the program quietly, with no "Broken pipe" panic and backtrace.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn a_reader_that_stops_early_ends_the_program_quietly() {
    // Hundreds of trace lines: far more than a pipe holds, so the program is still writing
    // when the reader goes away.
    let mut child = Command::new(env!("CARGO_BIN_EXE_step05-futures"))
        .args(["--connections", "300", "--delay-ms", "0", "--trace"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the step 5 binary");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here, as `head -n 1` exits.
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!first.is_empty(), "the program printed its first line");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        output.status.code(),
        Some(141),
        "the status of a program ended by SIGPIPE"
    );
}
