//! Step 3's fan-out on one small workload (10 connections, server delay 0), on each waiter.
//!
//! ```text
//! cargo bench -p step03-select --bench fan_out
//! ```

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use step03_select::{fan_out, poll::Poll, select::Select};
use testbed::Workload;

const CONNECTIONS: usize = 10;

fn fan_out_bench(c: &mut Criterion) {
    let (_server, workload) = Workload::zero_delay(CONNECTIONS).expect("start the delay server");
    let mut group = c.benchmark_group("step03-select/fan_out");
    group.bench_with_input(
        BenchmarkId::new("select", CONNECTIONS),
        &workload,
        |b, w| {
            b.iter(|| black_box(fan_out(w, Select, None)));
        },
    );
    group.bench_with_input(BenchmarkId::new("poll", CONNECTIONS), &workload, |b, w| {
        b.iter(|| black_box(fan_out(w, Poll, None)));
    });
    #[cfg(target_os = "linux")]
    group.bench_with_input(BenchmarkId::new("epoll", CONNECTIONS), &workload, |b, w| {
        b.iter(|| {
            black_box(fan_out(
                w,
                step03_select::epoll::Epoll::new().expect("create epoll"),
                None,
            ))
        });
    });
    group.finish();
}

criterion_group!(benches, fan_out_bench);
criterion_main!(benches);
