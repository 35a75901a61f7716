//! Every step's fan-out on one workload (100 connections, server delay 0), in one criterion
//! group, so criterion's report charts them side by side.
//!
//! ```text
//! cargo bench -p compare
//! ```

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use testbed::Workload;

const CONNECTIONS: usize = 100;

fn every_step(c: &mut Criterion) {
    let (_server, workload) = Workload::zero_delay(CONNECTIONS).expect("start the delay server");
    let mut group = c.benchmark_group("compare/fan_out");
    group.sample_size(20);
    for variant in compare::steps::all() {
        let id = BenchmarkId::new(variant.name(), CONNECTIONS);
        group.bench_with_input(id, &workload, |b, w| {
            b.iter(|| black_box((variant.fan_out)(w)))
        });
    }
    group.finish();
}

criterion_group!(benches, every_step);
criterion_main!(benches);
