//! What a green thread costs in time: a switch to the hub and back, beside step 5's
//! wake-and-poll and an OS thread's round trip; spawning and joining; and the fan-out at 100
//! connections with no delay, beside step 5's.
//!
//! ```text
//! cargo bench -p step07-green-threads --bench switch
//! ```

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use step07_green_threads::{Options, hub};
use testbed::Workload;

/// 1,000 yields in a row, as a future: step 5's wake-and-poll round trip.
struct Yields(u32);

impl Future for Yields {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn switch(c: &mut Criterion) {
    let mut group = c.benchmark_group("step07-green-threads/round_trip");
    // A green thread wakes itself and switches to the hub, which resumes it: two stack
    // switches and a trip through the run queue.
    group.bench_function(BenchmarkId::new("green-yield", 1000), |b| {
        b.iter(|| {
            hub::run(|| {
                for _ in 0..1000 {
                    hub::yield_now();
                }
            })
        })
    });
    group.bench_function(BenchmarkId::new("step05-wake-and-poll", 1000), |b| {
        b.iter(|| step05_futures::block_on(Yields(1000)))
    });
    // Two OS threads passing a token back and forth: each pass is a kernel context switch.
    group.bench_function(BenchmarkId::new("os-thread-ping-pong", 1000), |b| {
        b.iter(|| {
            let (to_other, from_main) = mpsc::channel::<u32>();
            let (to_main, from_other) = mpsc::channel::<u32>();
            let other = thread::spawn(move || {
                for token in from_main {
                    if to_main.send(token).is_err() {
                        break;
                    }
                }
            });
            for i in 0..1000 {
                to_other.send(i).expect("the other thread is alive");
                black_box(from_other.recv().expect("the other thread answers"));
            }
            drop(to_other);
            other.join().expect("the other thread ended");
        })
    });
    group.finish();

    let mut group = c.benchmark_group("step07-green-threads/spawn_and_join");
    group.bench_function(BenchmarkId::new("green", 1000), |b| {
        b.iter(|| {
            hub::run(|| {
                let handles: Vec<_> = (0..1000).map(|i| hub::spawn(move || i)).collect();
                black_box(hub::join_all(handles))
            })
        })
    });
    group.bench_function(BenchmarkId::new("os-threads", 1000), |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..1000)
                .map(|i| {
                    thread::Builder::new()
                        .stack_size(hub::STACK_SIZE)
                        .spawn(move || i)
                        .expect("spawn a thread")
                })
                .collect();
            black_box(
                handles
                    .into_iter()
                    .map(|h| h.join().expect("the thread ended"))
                    .collect::<Vec<_>>(),
            )
        })
    });
    group.finish();

    let (_server, workload) = Workload::zero_delay(100).expect("start the delay server");
    let mut group = c.benchmark_group("step07-green-threads/fan_out");
    group.bench_with_input(BenchmarkId::new("green", 100), &workload, |b, w| {
        b.iter(|| black_box(step07_green_threads::fan_out(w, Options::default())))
    });
    group.bench_with_input(
        BenchmarkId::new("step05-join-all", 100),
        &workload,
        |b, w| b.iter(|| black_box(step05_futures::fan_out::join_all(w))),
    );
    group.finish();
}

criterion_group!(benches, switch);
criterion_main!(benches);
