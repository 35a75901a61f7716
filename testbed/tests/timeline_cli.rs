//! `testbed timeline` draws a saved run report, as ASCII or SVG, and refuses what is not one.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn timeline(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_testbed"))
        .arg("timeline")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

const REPORT: &str = r#"{"step":"stepXX","variant":"demo","connections":2,"delay_ms":50,"addr":"127.0.0.1:1",
"ok":1,"failed":1,"wall_ms":51.0,"cpu_user_ms":1.0,"cpu_sys_ms":1.0,"max_rss_kib":100,"results":[
{"id":0,"ok":true,"start_ms":0.0,"connected_ms":0.2,"written_ms":0.3,"first_byte_ms":50.5,"done_ms":50.6,"bytes":97},
{"id":1,"ok":false,"start_ms":0.1,"done_ms":0.3,"bytes":0,"error":"connect: connection refused"}]}"#;

/// A report becomes an ASCII drawing with one row per connection, the failure marked.
#[test]
fn draws_ascii() {
    let out = timeline(&[], REPORT);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("timeline: 2 connections"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("#1 |x")), "{text}");
}

/// With `--svg`, an SVG image titled after the step and variant.
#[test]
fn draws_svg() {
    let out = timeline(&["--svg"], REPORT);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("<svg") && text.contains("stepXX (demo)"),
        "{text}"
    );
}

/// Anything else on stdin is an error that says what was expected.
#[test]
fn refuses_what_is_not_a_report() {
    let out = timeline(&[], "hello");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a run report"));
}
