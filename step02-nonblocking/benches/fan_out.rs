//! Step 2's busy-waiting fan-out on one small workload: 10 connections, server delay 0.
//!
//! ```text
//! cargo bench -p step02-nonblocking --bench fan_out
//! ```

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use testbed::Workload;

const CONNECTIONS: usize = 10;

fn fan_out(c: &mut Criterion) {
    let (_server, workload) = Workload::zero_delay(CONNECTIONS).expect("start the delay server");
    let mut group = c.benchmark_group("step02-nonblocking/fan_out");
    group.bench_with_input(
        BenchmarkId::new("busy-wait", CONNECTIONS),
        &workload,
        |b, w| {
            b.iter(|| black_box(step02_nonblocking::busy_wait(w)));
        },
    );
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
