//! Our work-stealing runtime beside tokio's `multi_thread`, with the same worker counts (1 and
//! 2), on the same async code: the fan-out at 100 and 10,000 connections (server delay 0 and
//! 50 ms), spawning and finishing tasks across threads, and an echo load.
//!
//! ```text
//! cargo bench -p step09-work-stealing --bench every_core
//! ```

use std::hint::black_box;
use std::process::Command;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use step09_work_stealing::{Options, Runtime, on_tokio};
use testbed::{Target, Workload};

fn every_core(c: &mut Criterion) {
    testbed::limits::ensure_open_files(testbed::limits::needed_for(10_000))
        .expect("room for the sockets");
    // The server in a child process: 10,000 connections need 10,000 descriptors on each side.
    let args = testbed::ServeArgs {
        addr: ([127, 0, 0, 1], 0).into(),
        delay_ms: 0,
    };
    let child = testbed::ChildServer::spawn(
        std::path::Path::new(env!("CARGO_BIN_EXE_step09-work-stealing")),
        &args,
    )
    .expect("start the delay server");
    let mut group = c.benchmark_group("step09-work-stealing/fan_out");
    group.sample_size(10);
    for (n, delay_ms) in [(100, 0), (100, 50), (10_000, 0), (10_000, 50)] {
        let target = Target::new(child.addr(), format!("/delay/{delay_ms}"));
        let workload = Workload::uniform(target, n, Duration::from_secs(30));
        for workers in [1, 2] {
            let options = Options {
                workers: Some(workers),
                ..Options::default()
            };
            let parameter = format!("{n} conns, delay {delay_ms} ms, {workers} workers");
            group.bench_with_input(BenchmarkId::new("ours", &parameter), &workload, |b, w| {
                b.iter(|| black_box(step09_work_stealing::fan_out(w, options).fan_out.results))
            });
            group.bench_with_input(BenchmarkId::new("tokio", &parameter), &workload, |b, w| {
                b.iter(|| black_box(on_tokio::fan_out(w, options).fan_out.results))
            });
        }
    }
    group.finish();
    drop(child);

    // Spawn 1,000 tasks from block_on's thread and wait for them all: every task crosses from
    // that thread to a worker, and its output back.
    let mut group = c.benchmark_group("step09-work-stealing/spawn");
    for workers in [1, 2] {
        let ours = Runtime::new(workers).unwrap();
        let parameter = format!("1000 tasks, {workers} workers");
        group.bench_function(BenchmarkId::new("ours", &parameter), |b| {
            b.iter(|| {
                ours.block_on(async {
                    let tasks: Vec<_> = (0..1000)
                        .map(|i| step09_work_stealing::spawn(async move { i }))
                        .collect();
                    futures::future::join_all(tasks).await
                })
            })
        });
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .unwrap();
        group.bench_function(BenchmarkId::new("tokio", &parameter), |b| {
            b.iter(|| {
                tokio.block_on(async {
                    let tasks: Vec<_> = (0..1000).map(|i| tokio::spawn(async move { i })).collect();
                    futures::future::join_all(tasks).await
                })
            })
        });
    }
    group.finish();

    // The echo servers in child processes, two workers each.
    let mut group = c.benchmark_group("step09-work-stealing/echo");
    group.sample_size(10);
    for runtime in ["ours", "tokio"] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_step09-work-stealing"));
        command.args(["echo-server", "--runtime", runtime, "--workers", "2"]);
        let server = testbed::ChildServer::start(command).expect("start the echo server");
        let addr = server.addr();
        group.bench_function(
            BenchmarkId::new(runtime, "100 clients echoing 6400 bytes each, 2 workers"),
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

criterion_group!(benches, every_core);
criterion_main!(benches);
