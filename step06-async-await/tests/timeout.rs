//! A read cancelled by a timeout: the future that owned the socket is dropped, and with it the
//! socket, closed and deregistered. (One test in its own file, so no other test opens
//! descriptors meanwhile; the server runs in a child process for the same reason.)

use std::path::Path;
use std::time::Duration;

use step05_futures::block_on;
use step05_futures::net::TcpStream;
use step05_futures::reactor::Reactor;
use step06_async_await::timeout::timeout;
use testbed::{ChildServer, ServeArgs};

/// A request to the path that never answers, under a 100 ms timeout.
#[test]
fn a_timeout_cancels_and_frees_the_socket() {
    let args = ServeArgs {
        addr: ([127, 0, 0, 1], 0).into(),
        delay_ms: 0,
    };
    let server =
        ChildServer::spawn(Path::new(env!("CARGO_BIN_EXE_step06-async-await")), &args).unwrap();
    let addr = server.addr();
    let count = || {
        std::fs::read_dir("/proc/self/fd")
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let before = count();
    let timed_out = block_on(async move {
        let hang = async move {
            let mut stream = TcpStream::connect(addr).await?;
            stream
                .write_all(b"GET /chaos/hang HTTP/1.0\r\n\r\n")
                .await?;
            let mut buf = [0u8; 64];
            stream.read(&mut buf).await // never answers
        };
        let outcome = timeout(Duration::from_millis(100), hang).await;
        assert_eq!(
            Reactor::current().borrow().live_registrations(),
            0,
            "the socket left the reactor"
        );
        outcome.is_err()
    });
    assert!(timed_out, "the timeout fired");
    assert_eq!(count(), before, "the socket was closed");
}
