//! The interop chapter's exercise 3, solved: the same 1,000 requests through `net::get` on our
//! executor (step 5's reactor, turned on the polling thread) and under
//! `futures::executor::block_on` (the background reactor, and a wake from its thread for every
//! report). Before measuring, it checks that each executor really gets the reactor the chapter
//! says.
//!
//! ```text
//! cargo bench -p interop --bench drivers
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use interop::net::{self, Driver};
use testbed::{ResponseCheck, Target, Workload};

// ANCHOR: measure
/// `requests` requests through `net::get`, 100 at a time, on whichever executor polls the
/// returned future; the drivers that served them.
async fn many_gets(target: &Target, requests: usize) -> Vec<Driver> {
    let mut drivers = Vec::with_capacity(requests);
    while drivers.len() < requests {
        let batch = (requests - drivers.len()).min(100);
        let gets = (0..batch).map(|_| net::get(target, ResponseCheck::new(1 << 20)));
        for got in futures::future::join_all(gets).await {
            drivers.push(got.expect("a request failed").0);
        }
    }
    drivers
}

/// Checks that each executor gets the driver the chapter says, for every request; then
/// measures both.
fn background_thread(c: &mut Criterion) {
    let (_server, workload) = Workload::zero_delay(1).expect("start the delay server");
    let target = workload.targets[0].clone();
    let ours = step05_futures::block_on(many_gets(&target, 200));
    assert!(ours.iter().all(|d| *d == Driver::Ours));
    let foreign = futures::executor::block_on(many_gets(&target, 200));
    assert!(foreign.iter().all(|d| *d == Driver::Background));
    let mut group = c.benchmark_group("step06-async-await/net_get");
    group.sample_size(20);
    group.bench_function("our_executor/1000", |b| {
        b.iter(|| step05_futures::block_on(many_gets(&target, 1000)))
    });
    group.bench_function("futures_block_on/1000", |b| {
        b.iter(|| futures::executor::block_on(many_gets(&target, 1000)))
    });
    group.finish();
}
// ANCHOR_END: measure

criterion_group!(benches, background_thread);
criterion_main!(benches);
