//! The point of gevent, checked: step 7 runs step 1's blocking `fetch.rs` unchanged but for
//! the import of `TcpStream` (and the module's own description).

/// The lines that are neither the module's `//!` description nor a `use`, nor blank (imports
/// are grouped by blank lines, and the green `TcpStream` sits in another group).
fn code_lines(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter(|line| !line.starts_with("//!") && !line.starts_with("use ") && !line.is_empty())
        .collect()
}

#[test]
fn step07_fetch_is_step01_fetch_with_another_tcp_stream() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let step01 = std::fs::read_to_string(format!("{root}/step01-blocking/src/fetch.rs")).unwrap();
    let step07 =
        std::fs::read_to_string(format!("{root}/step07-green-threads/src/fetch.rs")).unwrap();
    assert_eq!(code_lines(&step01), code_lines(&step07));
    let uses = |source: &str| -> Vec<String> {
        let mut uses: Vec<_> = source
            .lines()
            .filter(|line| line.starts_with("use "))
            .map(String::from)
            .collect();
        uses.sort();
        uses
    };
    let (mut step01_uses, mut step07_uses) = (uses(&step01), uses(&step07));
    step01_uses.retain(|u| u != "use std::net::TcpStream;");
    step07_uses.retain(|u| u != "use crate::net::TcpStream;");
    assert_eq!(
        step01_uses, step07_uses,
        "only the TcpStream import differs"
    );
    assert_eq!(uses(&step01).len(), step01_uses.len() + 1);
    assert_eq!(uses(&step07).len(), step07_uses.len() + 1);
}
