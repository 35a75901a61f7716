//! `tracing` spans across `.await`, on tokio. A span is a stretch of a program's work with a
//! name and fields, and a subscriber that times it; an async task is polled in pieces, so its
//! span must be *entered* at each poll and *exited* when the poll returns `Pending`, or the
//! time it spends waiting, and other tasks' work, is counted as its own.
//!
//! First, three fetches from the delay server (100 ms), each in a span made by
//! `#[instrument]`, which wraps the future so that every poll enters the span: the subscriber
//! reports each span's time *busy* (being polled) and *idle* (waiting between polls). Then the
//! mistake the `tracing` docs warn about: a span entered with `span.enter()` and held across
//! an `.await`, while another task runs and logs.
//!
//! ```text
//! cargo run --release -p step06-async-await --bin spans
//! ```
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use step06_async_await::on_tokio::exchange;
use testbed::{ServerConfig, ServerHandle, Target, Workload};
use tracing::{Instrument as _, info, info_span};
use tracing_subscriber::fmt::format::FmtSpan;

// ANCHOR: instrument
/// Step 6's `exchange` on tokio, in a span named `fetch` with the connection's id. The
/// attribute wraps the future in `Instrumented`, which enters the span at each poll and exits
/// it when the poll returns.
#[tracing::instrument(skip(target, workload))]
async fn fetch(id: usize, target: Target, workload: Arc<Workload>) {
    let mut record = workload.record(id);
    let mut check = workload.response_check();
    match exchange(&target, &mut record, &mut check).await {
        Ok(()) => info!(bytes = check.bytes(), "answered"),
        Err(e) => info!(error = %e, "failed"),
    }
}
// ANCHOR_END: instrument

// ANCHOR: held
/// The mistake: a span entered by hand and held across an `.await`. While this task sleeps,
/// the span stays entered on the thread, and whatever runs there meanwhile is inside it.
async fn held_across_await() {
    let span = info_span!("held");
    let _entered = span.enter();
    tokio::time::sleep(Duration::from_millis(20)).await;
    info!("done sleeping");
}

/// Another task, which only logs, in a span of its own.
async fn bystander() {
    info!("just passing by");
}
// ANCHOR_END: held

fn main() {
    testbed::run::quiet_when_the_reader_stops_reading();
    // Each line with the seconds since the start; each span's closing with its times.
    tracing_subscriber::fmt()
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .init();
    let server = ServerHandle::start(ServerConfig::default()).expect("start the delay server");
    let workload = Arc::new(Workload::delayed(server.addr(), 3, 100));
    let target = Target::new(server.addr(), "/delay/100");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("start tokio");
    runtime.block_on(async {
        println!("three fetches, each in its own span:");
        let fetches: Vec<_> = (0..3)
            .map(|id| tokio::spawn(fetch(id, target.clone(), Arc::clone(&workload))))
            .collect();
        for fetch in fetches {
            fetch.await.expect("a fetch panicked");
        }
        println!();
        println!("a span held across an .await, and a task that runs meanwhile:");
        let held = tokio::spawn(held_across_await());
        // Let `held` start, enter its span and go to sleep, then run the bystander.
        tokio::task::yield_now().await;
        let right = tokio::spawn(bystander().instrument(info_span!("bystander")));
        right.await.expect("the bystander panicked");
        held.await.expect("the held task panicked");
    });
}
