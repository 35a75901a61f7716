//! The server in a child process: started from the `testbed` binary, it reports its address,
//! serves, and never outlives its parent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testbed::child::{SERVER_SUBCOMMAND, parse_listening_line};
use testbed::{ChildServer, ServeArgs};

fn testbed_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_testbed"))
}

fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Polls (bounded) until `done` holds; panics with `what` if it never does.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child server reports where it listens, serves with its delay, and is gone once dropped.
#[test]
fn child_server_serves_and_dies_with_its_handle() {
    let args = ServeArgs {
        addr: ([127, 0, 0, 1], 0).into(),
        delay_ms: 7,
    };
    let server = ChildServer::spawn(testbed_binary(), &args).expect("spawn the child server");
    let addr = server.addr();
    assert!(get(addr, "/").ends_with("waited 7 ms\n"));
    drop(server);
    // The child was killed and reaped: nothing listens there any more.
    assert!(
        TcpStream::connect(addr).is_err(),
        "the child server outlived its handle"
    );
}

/// The child exits by itself when its parent's end of the stdin pipe closes, which is what
/// happens when the parent dies, however it dies.
#[test]
fn child_exits_when_its_parent_goes_away() {
    let mut child = Command::new(testbed_binary())
        .args([SERVER_SUBCOMMAND, "--delay-ms", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = parse_listening_line(&line).expect("a listening line");
    assert!(get(addr, "/delay/0").starts_with("HTTP/1.0 200"));
    drop(child.stdin.take()); // as if the parent had died
    eventually("the child's exit", || child.try_wait().unwrap().is_some());
}

/// `testbed serve` prints `listening on HOST:PORT` first and serves there.
#[test]
fn testbed_serve_announces_and_serves() {
    let mut child = Command::new(testbed_binary())
        .args(["serve", "--delay-ms", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = parse_listening_line(&line).unwrap_or_else(|| panic!("first line was {line:?}"));
    assert!(get(addr, "/").ends_with("waited 3 ms\n"));
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Asking the binary for nonsense is a usage error (exit status 2), as for every binary here.
#[test]
fn usage_errors_exit_with_2() {
    let status = Command::new(testbed_binary())
        .args(["serve", "--delay-ms", "soon"])
        .stderr(Stdio::null())
        .status();
    assert_eq!(status.unwrap().code(), Some(2));
}
