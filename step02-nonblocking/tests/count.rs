//! Counting while connecting: it ends with the peer on a live port, with "connection refused"
//! on a dead one (never looping forever, never claiming success), and counts while the server
//! thinks.

use std::time::Duration;

use step02_nonblocking::count::{CountError, count_until_answer, count_while_connecting};
use testbed::server::delay_response;
use testbed::{ServerConfig, ServerHandle};

/// A live server: connected to exactly its address, then the whole answer, counted for.
#[test]
fn counts_until_connected_then_until_answered() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let mut out = Vec::new();
    let connected =
        count_while_connecting(server.addr(), Duration::from_secs(10), &mut out).unwrap();
    assert_eq!(connected.peer, server.addr());
    let request = b"GET /delay/20 HTTP/1.0\r\n\r\n";
    let (bytes, counted) = count_until_answer(
        &connected.socket,
        request,
        Duration::from_secs(10),
        &mut out,
    )
    .unwrap();
    assert_eq!(bytes, delay_response(Duration::from_millis(20)).len());
    assert!(counted > 0, "a 20 ms delay and no \"not yet\"?");
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("Let's do some math while waiting for the answer: 0"),
        "{out}"
    );
}

/// Nothing listening: the attempt ends with "connection refused".
#[test]
fn a_refused_connect_ends_with_its_reason() {
    let err = count_while_connecting(
        testbed::faults::refused_addr(),
        Duration::from_secs(10),
        &mut Vec::new(),
    )
    .expect_err("nothing listens there");
    assert!(
        matches!(&err, CountError::Failed { error, .. } if error.kind() == std::io::ErrorKind::ConnectionRefused)
    );
    assert!(err.to_string().starts_with("connection refused"), "{err}");
}

/// A server that never answers: the count ends at the deadline with "timed out".
#[test]
fn a_silent_server_times_out() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let connected =
        count_while_connecting(server.addr(), Duration::from_secs(10), &mut Vec::new()).unwrap();
    let request = b"GET /chaos/hang HTTP/1.0\r\n\r\n";
    let err = count_until_answer(
        &connected.socket,
        request,
        Duration::from_millis(100),
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(
        matches!(err, CountError::TimedOut { counted } if counted > 0),
        "{err}"
    );
}
