//! Our runtime beside tokio, on the same async code: the fan-out at 100 and 10,000 connections
//! (server delay 0 and 50 ms), spawning, and an echo load.
//!
//! ```text
//! cargo bench -p step06-async-await --bench ours_vs_tokio
//! ```

use std::hint::black_box;
use std::process::Command;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use testbed::{Target, Workload};

fn fan_out(c: &mut Criterion) {
    testbed::limits::ensure_open_files(testbed::limits::needed_for(10_000))
        .expect("room for the sockets");
    // The server in a child process: 10,000 connections need 10,000 descriptors on each side.
    let args = testbed::ServeArgs {
        addr: ([127, 0, 0, 1], 0).into(),
        delay_ms: 0,
    };
    let child = testbed::ChildServer::spawn(
        std::path::Path::new(env!("CARGO_BIN_EXE_step06-async-await")),
        &args,
    )
    .expect("start the delay server");
    let mut group = c.benchmark_group("step06-async-await/fan_out");
    group.sample_size(10);
    for (n, delay_ms) in [(100, 0), (100, 50), (10_000, 0), (10_000, 50)] {
        let target = Target::new(child.addr(), format!("/delay/{delay_ms}"));
        let workload = Workload::uniform(target, n, Duration::from_secs(30));
        let parameter = format!("{n} conns, delay {delay_ms} ms");
        group.bench_with_input(BenchmarkId::new("ours", &parameter), &workload, |b, w| {
            b.iter(|| black_box(step06_async_await::fan_out(w, Default::default()).results))
        });
        group.bench_with_input(BenchmarkId::new("tokio", &parameter), &workload, |b, w| {
            b.iter(|| {
                black_box(step06_async_await::on_tokio::fan_out(w, Default::default()).results)
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("step06-async-await/spawn");
    group.bench_function(BenchmarkId::new("ours", "1000 tasks"), |b| {
        b.iter(|| {
            step05_futures::block_on(async {
                let tasks: Vec<_> = (0..1000)
                    .map(|i| step05_futures::spawn(async move { i }))
                    .collect();
                futures::future::join_all(tasks).await
            })
        })
    });
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    group.bench_function(BenchmarkId::new("tokio", "1000 tasks"), |b| {
        b.iter(|| {
            tokio.block_on(async {
                let tasks: Vec<_> = (0..1000).map(|i| tokio::spawn(async move { i })).collect();
                futures::future::join_all(tasks).await
            })
        })
    });
    group.finish();
    drop(child);

    // The echo servers in child processes, loaded the same way as `compare echo`.
    let mut group = c.benchmark_group("step06-async-await/echo");
    group.sample_size(10);
    for runtime in ["ours", "tokio"] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_step06-async-await"));
        command.args(["echo-server", "--runtime", runtime]);
        let server = testbed::ChildServer::start(command).expect("start the echo server");
        let addr = server.addr();
        group.bench_function(
            BenchmarkId::new(runtime, "100 clients echoing 6400 bytes each"),
            |b| {
                b.iter(|| {
                    let failures = testbed::echo_check::concurrent_clients(addr, 100, 6400, 0);
                    assert!(failures.is_empty(), "{failures:?}");
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
