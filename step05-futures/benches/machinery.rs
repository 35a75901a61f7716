//! What the machinery costs: one wake-and-poll round trip, spawning and finishing an empty
//! task, the fan-out at 100 connections with no delay, each beside `futures::executor` and
//! tokio where the comparison makes sense; and timers set and cancelled before they fire.
//!
//! ```text
//! cargo bench -p step05-futures --bench machinery
//! ```

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use step05_futures::timers::Timers;
use testbed::Workload;

/// Timers set and cancelled before they fire, as a server's timeouts are: `count` in a row,
/// each for 10 s, at most 10 pending at a time. Returns how many entries the heap of deadlines
/// holds at the end.
fn set_and_cancel(count: u32) -> usize {
    let mut timers = Timers::default();
    let now = Instant::now();
    let mut pending = std::collections::VecDeque::new();
    for generation in 0..count {
        pending.push_back(timers.add(now + Duration::from_secs(10), generation));
        if pending.len() > 10 {
            timers.remove(pending.pop_front().expect("more than 10 pending"));
        }
    }
    timers.heap_len()
}

/// Pending once (after waking itself), then ready: one wake-and-poll round trip through an
/// executor's queue.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// 1,000 yields in a row.
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

fn machinery(c: &mut Criterion) {
    let mut group = c.benchmark_group("step05-futures/wake_and_poll");
    group.bench_function(BenchmarkId::new("ours", 1000), |b| {
        b.iter(|| step05_futures::block_on(Yields(1000)))
    });
    group.bench_function(BenchmarkId::new("futures-executor", 1000), |b| {
        b.iter(|| futures::executor::block_on(Yields(1000)))
    });
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    group.bench_function(BenchmarkId::new("tokio", 1000), |b| {
        b.iter(|| tokio.block_on(Yields(1000)))
    });
    group.finish();

    let mut group = c.benchmark_group("step05-futures/spawn_and_finish");
    group.bench_function(BenchmarkId::new("ours", 1000), |b| {
        b.iter(|| {
            // Spawn 1,000 tasks, then wait for every handle in turn: the same code as tokio's
            // below. (`join_all` here would add its own cost: past 30 futures it keeps them in
            // a `FuturesUnordered`, with an allocation and a waker of its own for each.)
            step05_futures::block_on(async {
                let handles: Vec<_> = (0..1000)
                    .map(|_| step05_futures::spawn(YieldOnce(false)))
                    .collect();
                for handle in handles {
                    handle.await;
                }
            })
        })
    });
    group.bench_function(BenchmarkId::new("tokio", 1000), |b| {
        b.iter(|| {
            tokio.block_on(async {
                let handles: Vec<_> = (0..1000).map(|_| tokio::spawn(YieldOnce(false))).collect();
                for handle in handles {
                    handle.await.expect("the task panicked");
                }
            })
        })
    });
    group.finish();

    let (_server, workload) = Workload::zero_delay(100).expect("start the delay server");
    let mut group = c.benchmark_group("step05-futures/fan_out");
    group.bench_with_input(BenchmarkId::new("state-machine", 100), &workload, |b, w| {
        b.iter(|| black_box(step05_futures::fan_out::state_machine(w)))
    });
    group.bench_with_input(BenchmarkId::new("join-all", 100), &workload, |b, w| {
        b.iter(|| black_box(step05_futures::fan_out::join_all(w)))
    });
    group.bench_with_input(BenchmarkId::new("unordered", 100), &workload, |b, w| {
        b.iter(|| black_box(step05_futures::fan_out::unordered(w, None)))
    });
    group.finish();

    let mut group = c.benchmark_group("step05-futures/timers");
    group.bench_function(BenchmarkId::new("set-and-cancel", 100_000), |b| {
        b.iter(|| black_box(set_and_cancel(100_000)))
    });
    group.finish();
}

criterion_group!(benches, machinery);
criterion_main!(benches);
