//! 10,000 concurrent `/delay/50` requests, all answered `200`.
//!
//! The server runs in a child process (the `testbed` binary), so each side has its own 10,000
//! descriptors; the client is a plain tokio program that keeps every connection open at once.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use testbed::{ChildServer, ServeArgs, limits};

const CONNECTIONS: usize = 10_000;

/// One request on an open connection, read to EOF; the status line, or why there is none.
async fn fetch(mut stream: TcpStream) -> Result<String, String> {
    stream
        .write_all(b"GET /delay/50 HTTP/1.0\r\n\r\n")
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&response);
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// All 10,000 connections are open at the same time (every one is connected before the first
/// request is sent, so none can have been answered and closed yet), and every one of them
/// gets `200 OK`.
#[test]
fn ten_thousand_concurrent_requests_all_answered() {
    if let Some(raised) =
        limits::ensure_open_files(limits::needed_for(CONNECTIONS)).expect("room for 10,000 sockets")
    {
        eprintln!("{raised}");
    }
    let args = ServeArgs {
        addr: ([127, 0, 0, 1], 0).into(),
        delay_ms: 50,
    };
    let server = ChildServer::spawn(Path::new(env!("CARGO_BIN_EXE_testbed")), &args).unwrap();
    let addr = server.addr();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let statuses = runtime.block_on(async move {
        let connects: Vec<_> = (0..CONNECTIONS)
            .map(|_| tokio::spawn(TcpStream::connect(addr)))
            .collect();
        let mut streams = Vec::with_capacity(CONNECTIONS);
        for connect in connects {
            streams.push(
                connect
                    .await
                    .expect("a connect task panicked")
                    .expect("connect to the delay server"),
            );
        }
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|stream| {
                tokio::spawn(tokio::time::timeout(Duration::from_secs(60), fetch(stream)))
            })
            .collect();
        let mut statuses = Vec::with_capacity(CONNECTIONS);
        for task in tasks {
            statuses.push(match task.await.expect("a request task panicked") {
                Ok(status) => status,
                Err(_) => Err("no answer within 60 s".to_string()),
            });
        }
        statuses
    });
    let failures: Vec<_> = statuses
        .iter()
        .filter(|s| s.as_deref() != Ok("HTTP/1.0 200 OK"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {CONNECTIONS} failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}
