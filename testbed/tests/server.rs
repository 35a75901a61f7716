//! The delay server seen from a raw client: every route, every rejection, and clients that
//! misbehave.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use testbed::server::{DRIP_RESPONSE, HUGE_BODY_BYTES, MAX_HEAD_BYTES, SHORT_BODY_SENT};
use testbed::{ServerConfig, ServerHandle};

/// Generous bound on any single read in these tests, so a broken server fails them instead of
/// hanging them.
const READ_BOUND: Duration = Duration::from_secs(10);

fn start(default_delay_ms: u64) -> ServerHandle {
    let config = ServerConfig {
        default_delay: Duration::from_millis(default_delay_ms),
        ..ServerConfig::default()
    };
    ServerHandle::start(config).expect("start the delay server")
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the delay server");
    stream.set_read_timeout(Some(READ_BOUND)).unwrap();
    stream
}

/// Sends `request` and reads everything until the server closes.
fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(request).expect("send the request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read the response to EOF");
    response
}

fn get(addr: SocketAddr, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    String::from_utf8_lossy(&exchange(addr, request.as_bytes())).into_owned()
}

fn status(response: &str) -> &str {
    response.split(' ').nth(1).unwrap_or("")
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

/// `/delay/{ms}` answers 200 no sooner than `ms` later, with a body that names the delay.
#[test]
fn delay_answers_200_after_the_delay() {
    let server = start(50);
    let started = Instant::now();
    let response = get(server.addr(), "/delay/30");
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "answered before the delay"
    );
    assert!(response.starts_with("HTTP/1.0 200 OK\r\n"), "{response}");
    assert!(response.contains("Content-Length: 13\r\n"), "{response}");
    assert_eq!(body(&response), "waited 30 ms\n");
}

/// `GET /` uses the configured default delay.
#[test]
fn root_uses_the_default_delay() {
    let server = start(15);
    let response = get(server.addr(), "/");
    assert_eq!(status(&response), "200");
    assert_eq!(body(&response), "waited 15 ms\n");
}

/// A connection waiting a long delay does not hold up a short one started after it.
#[test]
fn one_wait_never_delays_another() {
    let server = start(50);
    let addr = server.addr();
    // The slow request is connected and sent first, so the server sees it first.
    let mut slow = connect(addr);
    slow.write_all(b"GET /delay/2000 HTTP/1.0\r\n\r\n").unwrap();
    let slow_done = Arc::new(AtomicBool::new(false));
    let slow_reader = {
        let slow_done = Arc::clone(&slow_done);
        std::thread::spawn(move || {
            let mut response = String::new();
            slow.read_to_string(&mut response).unwrap();
            slow_done.store(true, Ordering::SeqCst);
            response
        })
    };
    let fast = get(addr, "/delay/0");
    assert_eq!(status(&fast), "200");
    assert!(
        !slow_done.load(Ordering::SeqCst),
        "the 0 ms request waited for the 2000 ms one"
    );
    assert_eq!(status(&slow_reader.join().unwrap()), "200");
}

/// Bad requests get 400, unknown paths 404, other methods 405, each with a reason in the body.
#[test]
fn rejections_have_the_right_status() {
    let server = start(0);
    let addr = server.addr();
    let garbage =
        String::from_utf8_lossy(&exchange(addr, b"\x00\x01\x02 hello\r\n\r\n")).into_owned();
    assert_eq!(status(&garbage), "400", "{garbage}");
    assert!(body(&garbage).contains("malformed"), "{garbage}");
    assert_eq!(status(&get(addr, "/delay/soon")), "400");
    assert_eq!(status(&get(addr, "/delay/99999999")), "400");
    let missing = get(addr, "/missing");
    assert_eq!(status(&missing), "404");
    assert!(body(&missing).contains("/missing"), "{missing}");
    let post = String::from_utf8_lossy(&exchange(addr, b"POST / HTTP/1.0\r\n\r\n")).into_owned();
    assert_eq!(status(&post), "405");
}

/// A head over 8 KiB gets 431, even while the client is still sending it.
#[test]
fn an_oversized_head_gets_431() {
    let server = start(0);
    let mut request = b"GET / HTTP/1.0\r\nX-Padding: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES + 100));
    request.extend_from_slice(b"\r\n\r\n");
    let response = String::from_utf8_lossy(&exchange(server.addr(), &request)).into_owned();
    assert_eq!(status(&response), "431", "{response}");

    let mut many_headers = b"GET / HTTP/1.0\r\n".to_vec();
    for i in 0..40 {
        many_headers.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    many_headers.extend_from_slice(b"\r\n");
    let response = String::from_utf8_lossy(&exchange(server.addr(), &many_headers)).into_owned();
    assert_eq!(status(&response), "431", "{response}");
}

/// A client that sends half a head and goes quiet gets 408 and is closed when the head
/// timeout runs out.
#[test]
fn a_half_sent_head_times_out() {
    let config = ServerConfig {
        head_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let server = ServerHandle::start(config).unwrap();
    let mut stream = connect(server.addr());
    stream
        .write_all(b"GET /delay/0 HTTP/1.0\r\nHost: x")
        .unwrap();
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the server answers and closes");
    assert_eq!(status(&response), "408", "{response}");
}

/// Clients that leave early, send garbage, send half a head and close, or reset, never stop
/// the server: a good request afterwards (and one held open meanwhile) still gets 200.
#[test]
fn misbehaving_clients_never_stop_the_server() {
    let server = start(0);
    let addr = server.addr();
    let patient = std::thread::spawn(move || get(addr, "/delay/300"));
    for i in 0..40 {
        let mut stream = connect(addr);
        match i % 4 {
            0 => {}
            1 => stream.write_all(b"\xff\xfe garbage \r\n\r\n").unwrap(),
            2 => stream.write_all(b"GET /delay/0 HTT").unwrap(),
            _ => {
                stream
                    .write_all(b"GET /delay/100 HTTP/1.0\r\n\r\n")
                    .unwrap();
                socket2::SockRef::from(&stream)
                    .set_linger(Some(Duration::ZERO))
                    .unwrap();
            }
        }
        drop(stream);
    }
    assert_eq!(status(&get(addr, "/delay/0")), "200");
    assert_eq!(status(&patient.join().unwrap()), "200");
}

/// `/chaos/reset` aborts the connection after the request: the client's read fails with
/// ECONNRESET.
#[test]
fn chaos_reset_resets() {
    let server = start(0);
    let mut stream = connect(server.addr());
    stream
        .write_all(b"GET /chaos/reset HTTP/1.0\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 64];
    let err = stream.read(&mut buf).expect_err("a reset, not data or EOF");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}

/// `/chaos/hang` reads the request and never answers, but keeps the connection open.
#[test]
fn chaos_hang_never_answers() {
    let server = start(0);
    let mut stream = connect(server.addr());
    stream
        .write_all(b"GET /chaos/hang HTTP/1.0\r\n\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 64];
    let err = stream.read(&mut buf).expect_err("no answer and no close");
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
}

/// `/chaos/drip` sends a valid response a byte at a time: many small reads, exact bytes.
#[test]
fn chaos_drip_sends_one_byte_at_a_time() {
    let server = start(0);
    let mut stream = connect(server.addr());
    stream
        .write_all(b"GET /chaos/drip HTTP/1.0\r\n\r\n")
        .unwrap();
    let (mut response, mut reads) = (Vec::new(), 0);
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).unwrap() {
            0 => break,
            n => {
                reads += 1;
                response.extend_from_slice(&buf[..n]);
            }
        }
    }
    assert_eq!(response, DRIP_RESPONSE);
    assert!(
        reads > DRIP_RESPONSE.len() / 2,
        "only {reads} reads: the bytes were not dripped"
    );
}

/// `/chaos/short` promises more than it sends, then closes.
#[test]
fn chaos_short_is_truncated() {
    let server = start(0);
    let response = get(server.addr(), "/chaos/short");
    assert!(response.contains("Content-Length: 1000\r\n"), "{response}");
    assert_eq!(body(&response).len(), SHORT_BODY_SENT);
}

/// `/chaos/huge` sends a body four times the client limit, ended by close.
#[test]
fn chaos_huge_is_huge() {
    let server = start(0);
    let response = exchange(server.addr(), b"GET /chaos/huge HTTP/1.0\r\n\r\n");
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&response[..head_end]);
    assert!(
        head.starts_with("HTTP/1.0 200") && !head.contains("Content-Length"),
        "{head}"
    );
    assert_eq!(response.len() - head_end, HUGE_BODY_BYTES);
}
