//! What a thread costs: the time to spawn and join 1,000 threads at two stack sizes, and, first,
//! the memory each of 1,000 live threads takes with step 1's 64 KiB stacks.
//!
//! ```text
//! cargo bench -p step01-blocking --bench thread_cost
//! ```
//!
//! (The memory is measured once, before the timings: a process keeps the stacks of finished
//! threads for reuse, so later measurements in the same process would be off. The example
//! `thread_cost` measures every stack size, each in a fresh process.)

use std::hint::black_box;
use std::thread;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use step01_blocking::thread_cost::measure;

const THREADS: usize = 1000;

fn thread_cost(c: &mut Criterion) {
    match measure(THREADS, step01_blocking::STACK_SIZE / 1024, 16) {
        Ok(cost) => eprintln!(
            "memory with {THREADS} live threads, {} KiB stacks, 16 KiB touched: {:.0} KiB reserved and {:.1} KiB resident per thread",
            cost.stack_kib, cost.virtual_kib_per_thread, cost.resident_kib_per_thread
        ),
        Err(e) => eprintln!("memory per thread not measured: {e}"),
    }
    let mut group = c.benchmark_group("step01-blocking/spawn_join");
    group.sample_size(20);
    for stack_kib in [64, 2048] {
        group.bench_with_input(
            BenchmarkId::new(format!("stack-{stack_kib}KiB"), THREADS),
            &stack_kib,
            |b, &kib| {
                b.iter(|| {
                    thread::scope(|scope| {
                        for _ in 0..THREADS {
                            thread::Builder::new()
                                .stack_size(kib * 1024)
                                .spawn_scoped(scope, || black_box(1))
                                .expect("spawn a thread");
                        }
                    });
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, thread_cost);
criterion_main!(benches);
