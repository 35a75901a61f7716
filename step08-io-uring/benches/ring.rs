//! What the ring costs, and what batching saves: a thousand no-op operations awaited one after
//! another (each needs its own `io_uring_enter`) or all at once (one `io_uring_enter` carries
//! them all); and the fan-out at 100 connections with no delay, receiving into the pool or into
//! a buffer per connection, beside step 5's and step 6's.
//!
//! ```text
//! cargo bench -p step08-io-uring --bench ring
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use futures::future::join_all;
use step08_io_uring::fetch::Buffers;
use step08_io_uring::uring::op::nop;
use step08_io_uring::{Options, block_on, fan_out};
use testbed::Workload;

/// Runs `round` `iters` times inside one runtime, and times the rounds alone (not making the
/// ring, which costs more than a thousand no-ops).
fn on_one_ring<F: std::future::Future<Output = ()>>(
    iters: u64,
    mut round: impl FnMut() -> F,
) -> Duration {
    block_on(async {
        let started = Instant::now();
        for _ in 0..iters {
            round().await;
        }
        started.elapsed()
    })
}

fn nops(c: &mut Criterion) {
    let mut group = c.benchmark_group("step08-io-uring/nops");
    // Each no-op is submitted, completed and reaped before the next starts: a system call each.
    group.bench_function(BenchmarkId::new("one-by-one", 1000), |b| {
        b.iter_custom(|iters| {
            on_one_ring(iters, || async {
                for _ in 0..1000 {
                    let (done, ()) = nop().expect("start a no-op").await;
                    black_box(done.expect("a no-op succeeds"));
                }
            })
        })
    });
    // All thousand are queued first; the executor's next turn hands them over (in four calls,
    // with the default 256-entry ring) and reaps them all.
    group.bench_function(BenchmarkId::new("batched", 1000), |b| {
        b.iter_custom(|iters| {
            on_one_ring(iters, || async {
                let ops: Vec<_> = (0..1000).map(|_| nop().expect("start a no-op")).collect();
                for (done, ()) in join_all(ops).await {
                    black_box(done.expect("a no-op succeeds"));
                }
            })
        })
    });
    group.finish();
}

fn fan_outs(c: &mut Criterion) {
    let (_server, workload) = Workload::zero_delay(100).expect("start the server");
    let mut group = c.benchmark_group("step08-io-uring/fan_out");
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("ring-pool", 100), |b| {
        b.iter(|| black_box(fan_out(&workload, Options::default())))
    });
    group.bench_function(BenchmarkId::new("ring-owned", 100), |b| {
        let owned = Options {
            buffers: Buffers::Owned,
            ..Options::default()
        };
        b.iter(|| black_box(fan_out(&workload, owned)))
    });
    group.bench_function(BenchmarkId::new("step05-join-all", 100), |b| {
        b.iter(|| black_box(step05_futures::fan_out::join_all(&workload)))
    });
    group.bench_function(BenchmarkId::new("step06-ours", 100), |b| {
        b.iter(|| {
            black_box(step06_async_await::fan_out(
                &workload,
                step06_async_await::Options::default(),
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, nops, fan_outs);
criterion_main!(benches);
