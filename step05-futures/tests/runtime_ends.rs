//! Sockets and timers belong to the runtime (the `block_on`) they were created in. Used in a
//! later `block_on`, they would wait on a reactor nobody turns any more, forever; instead a
//! socket fails with an error that says so, and a timer panics with the same explanation (as
//! tokio answers I/O whose runtime has shut down). Each test fails by timing out if the wait
//! hangs.

use std::time::Duration;

use futures::FutureExt;
use step05_futures::block_on;
use step05_futures::net::TcpStream;
use step05_futures::time::sleep;
use testbed::faults::within;
use testbed::{ServerConfig, ServerHandle};

/// Connected in one `block_on`, written and read in the next: an error naming the cause, at
/// once. (Before the fix, the read never woke.)
#[test]
fn a_socket_used_after_its_block_on_fails_instead_of_hanging() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let addr = server.addr();
    let error = within(Duration::from_secs(5), "the second block_on", move || {
        let mut stream = block_on(TcpStream::connect(addr)).unwrap();
        block_on(async move {
            stream.write_all(b"GET /delay/0 HTTP/1.0\r\n\r\n").await?;
            let mut buf = [0u8; 1024];
            stream.read(&mut buf).await
        })
        .map_err(|e| e.to_string())
    })
    .expect_err("the socket's runtime is gone");
    assert!(error.contains("runtime has ended"), "{error}");
}

/// A sleep first polled in one `block_on` and awaited in the next panics with the reason
/// instead of sleeping forever (its deadline is an hour away: the test would time out).
#[test]
#[should_panic(expected = "a timer of a runtime that has ended")]
fn a_timer_used_after_its_block_on_panics_instead_of_hanging() {
    within(Duration::from_secs(5), "the second block_on", || {
        let mut nap = Box::pin(sleep(Duration::from_secs(3600)));
        // Polled once in the first runtime: it registers its timer there.
        block_on(async { assert!((&mut nap).now_or_never().is_none()) });
        block_on(nap);
    });
}
