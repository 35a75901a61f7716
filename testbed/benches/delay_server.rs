//! What the delay server itself costs: N concurrent requests, end to end, at N = 1,000 and
//! 10,000, with no delay (pure overhead: accept, parse, answer, close) and with the steps'
//! usual 50 ms delay (the time above 50 ms is the overhead).
//!
//! ```text
//! cargo bench -p testbed --bench delay_server
//! ```
//!
//! The server runs in a child process (the `testbed` binary), as in the step binaries; the
//! client is a tokio program on one thread, so the two cores are split one each.

use std::hint::black_box;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use testbed::{ChildServer, ServeArgs, limits};

/// One request to `path`, read to EOF; the number of bytes received.
async fn fetch(addr: SocketAddr, request: &'static [u8]) -> usize {
    let mut stream = TcpStream::connect(addr)
        .await
        .expect("connect to the delay server");
    stream.write_all(request).await.expect("send the request");
    let mut response = Vec::with_capacity(128);
    stream
        .read_to_end(&mut response)
        .await
        .expect("read the response");
    assert!(
        response.starts_with(b"HTTP/1.0 200"),
        "not a 200: {:?}",
        String::from_utf8_lossy(&response)
    );
    response.len()
}

/// `n` concurrent requests; returns when all have been answered.
async fn burst(addr: SocketAddr, request: &'static [u8], n: usize) -> usize {
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(fetch(addr, request))).collect();
    let mut bytes = 0;
    for task in tasks {
        bytes += task.await.expect("a request task panicked");
    }
    bytes
}

fn delay_server(c: &mut Criterion) {
    limits::ensure_open_files(limits::needed_for(10_000)).expect("room for 10,000 sockets");
    let args = ServeArgs {
        addr: ([127, 0, 0, 1], 0).into(),
        delay_ms: 0,
    };
    let server = ChildServer::spawn(Path::new(env!("CARGO_BIN_EXE_testbed")), &args)
        .expect("start the server");
    let addr = server.addr();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("delay_server");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(1));
    let variants: [(&str, &'static [u8]); 2] = [
        ("delay-0ms", b"GET /delay/0 HTTP/1.0\r\n\r\n"),
        ("delay-50ms", b"GET /delay/50 HTTP/1.0\r\n\r\n"),
    ];
    for n in [1_000, 10_000] {
        for (name, request) in variants {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                b.iter(|| black_box(runtime.block_on(burst(addr, request, n))));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, delay_server);
criterion_main!(benches);
