//! Step 1's two fan-outs on one small workload: 10 connections, server delay 0, so what is
//! measured is the cost of the mechanism (connects, threads), not the waiting.
//!
//! ```text
//! cargo bench -p step01-blocking --bench fan_out
//! ```

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use testbed::Workload;

const CONNECTIONS: usize = 10;

fn fan_out(c: &mut Criterion) {
    let (_server, workload) = Workload::zero_delay(CONNECTIONS).expect("start the delay server");
    let mut group = c.benchmark_group("step01-blocking/fan_out");
    group.bench_with_input(
        BenchmarkId::new("sequential", CONNECTIONS),
        &workload,
        |b, w| {
            b.iter(|| black_box(step01_blocking::sequential(w)));
        },
    );
    group.bench_with_input(
        BenchmarkId::new("threads", CONNECTIONS),
        &workload,
        |b, w| {
            b.iter(|| black_box(step01_blocking::threads(w, step01_blocking::STACK_SIZE)));
        },
    );
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
