//! Step 4's callback fan-out on one small workload (10 connections, server delay 0), and the
//! cost of the loop's own machinery: a timer, a deferred chain.
//!
//! ```text
//! cargo bench -p step04-callbacks --bench fan_out
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use step04_callbacks::IoLoop;
use step04_callbacks::deferred::Deferred;
use testbed::Workload;

const CONNECTIONS: usize = 10;

fn fan_out(c: &mut Criterion) {
    let (_server, workload) = Workload::zero_delay(CONNECTIONS).expect("start the delay server");
    let mut group = c.benchmark_group("step04-callbacks/fan_out");
    group.bench_with_input(
        BenchmarkId::new("callbacks", CONNECTIONS),
        &workload,
        |b, w| {
            b.iter(|| black_box(step04_callbacks::fan_out(w)));
        },
    );
    group.finish();

    let mut group = c.benchmark_group("step04-callbacks/machinery");
    group.bench_function("1000 zero-delay timers through run()", |b| {
        b.iter(|| {
            let io_loop = IoLoop::new().unwrap();
            for _ in 0..1000 {
                io_loop.call_later(Duration::ZERO, |_| {});
            }
            io_loop.run().unwrap();
        });
    });
    group.bench_function("a deferred chain of 10 callbacks", |b| {
        b.iter(|| {
            let (deferred, trigger) = Deferred::<u64, ()>::new();
            let mut chain = deferred;
            for _ in 0..10 {
                chain = chain.add_callback(|x| Ok::<_, ()>(x + 1));
            }
            chain.add_both(|r| {
                black_box(r.ok());
            });
            trigger.succeed(black_box(1));
        });
    });
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
