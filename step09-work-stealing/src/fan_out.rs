//! The fan-out on every core: step 6's `run`, with `Arc` where step 6 had `Rc` (a test checks
//! that this is the only difference), on a runtime of `workers` threads.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use step06_async_await::blocking::spawn_blocking;
use testbed::{ConnectionRecord, Outcome, RunClock, Variant, Workload};

use crate::fetch::fetch;
use crate::greedy;
use crate::runtime::budget::BUDGET;
use crate::runtime::time::sleep;
use crate::runtime::{Runtime, Stats, spawn};
use crate::sync::Semaphore;

pub use step06_async_await::{Blocking, FanOut};

/// How to run the fan-out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// At most this many connections in flight (a semaphore); `None`: no limit.
    pub limit: Option<usize>,
    /// A task that blocks, if any.
    pub block: Option<Blocking>,
    /// Worker threads; `None`: one per core.
    pub workers: Option<usize>,
    /// I/O operations a task may finish per poll: `None`, the default ([`BUDGET`], as
    /// tokio's); `Some(0)`, no budget at all (as in steps 5 and 6), to see what it is for.
    pub budget: Option<u32>,
    /// Add a greedy connection (ours only): one whose socket always has data (see
    /// [`greedy`](crate::greedy)).
    pub greedy: bool,
}

/// A fan-out's results, with what the runtime did.
#[derive(Debug, Clone)]
pub struct Report {
    /// Step 6's results: one per connection, and the blocking task's times.
    pub fan_out: FanOut,
    /// The runtime's counts (none on tokio).
    pub stats: Option<Stats>,
    /// What the greedy connection did, if there was one.
    pub greedy: Option<greedy::Greedy>,
}

impl From<Report> for Outcome {
    /// Step 6's report, and the runtime's counts: `workers`, `polls_per_worker`, `steals`,
    /// `parks`, `epoll_waits`; and `greedy_from_ms`, `greedy_until_ms`, `greedy_bytes` if a
    /// greedy connection ran.
    fn from(report: Report) -> Outcome {
        let mut outcome = Outcome::from(report.fan_out);
        if let Some(greedy) = report.greedy {
            let tenths = |ms: f64| (ms * 10.0).round() / 10.0;
            let extra = &mut outcome.extra;
            extra.insert("greedy_from_ms".into(), tenths(greedy.from_ms).into());
            extra.insert("greedy_until_ms".into(), tenths(greedy.until_ms).into());
            extra.insert("greedy_bytes".into(), greedy.bytes.into());
        }
        if let Some(stats) = report.stats {
            let extra = &mut outcome.extra;
            extra.insert("workers".into(), stats.polls.len().into());
            extra.insert("polls_per_worker".into(), stats.polls.into());
            extra.insert("steals".into(), stats.steals.into());
            extra.insert("parks".into(), stats.parks.into());
            extra.insert("epoll_waits".into(), stats.turns.into());
        }
        outcome
    }
}

// ANCHOR: run
/// Every connection as a task of its own, at most `limit` at a time; plus, if asked, a task
/// that blocks.
async fn run(workload: &Workload, options: Options) -> FanOut {
    let limit = options
        .limit
        .map(|permits| Arc::new(Semaphore::new(permits)));
    let (clock, deadline) = (workload.clock, workload.timeout);
    let tasks: Vec<_> = workload
        .targets
        .iter()
        .enumerate()
        .map(|(id, target)| {
            let (target, check, limit) = (target.clone(), workload.response_check(), limit.clone());
            spawn(async move {
                // Wait for a permit, if connections are limited; the connection starts after.
                let _permit = match &limit {
                    Some(semaphore) => Some(semaphore.acquire().await),
                    None => None,
                };
                fetch(target, ConnectionRecord::start(clock, id, deadline), check).await
            })
        })
        .collect();
    let blocked = options
        .block
        .map(|blocking| spawn(misbehave(clock, blocking)));
    let results = join_all(tasks).await;
    let blocked = match blocked {
        Some(task) => Some(task.await),
        None => None,
    };
    FanOut { results, blocked }
}
// ANCHOR_END: run

// ANCHOR: misbehave
/// A task that, 10 ms in, runs something that takes `blocking.duration`: on the loop's thread
/// (`std::thread::sleep`, which blocks every task), or on the blocking pool. Returns when it
/// started and ended, in ms of the run.
async fn misbehave(clock: RunClock, blocking: Blocking) -> (f64, f64) {
    sleep(Duration::from_millis(10)).await;
    let started = clock.elapsed_ms();
    let duration = blocking.duration;
    if blocking.on_pool {
        // The way out: the helper thread sleeps, this task waits for it like for a socket.
        let _ = spawn_blocking(move || std::thread::sleep(duration)).await;
    } else {
        // The mistake: the loop's own thread sleeps, and nothing else can run meanwhile.
        std::thread::sleep(duration);
    }
    (started, clock.elapsed_ms())
}
// ANCHOR_END: misbehave

/// The worker count `options` asks for: `workers`, or one per core.
pub fn workers(options: &Options) -> usize {
    options.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    })
}

/// The runtime's budget for an `Options::budget`: the default, none (0), or that many.
pub fn budget(asked: Option<u32>) -> Option<u32> {
    match asked.unwrap_or(BUDGET) {
        0 => None,
        n => Some(n),
    }
}

/// Runs the fan-out on a runtime of `workers(options)` threads.
pub fn fan_out(workload: &Workload, options: Options) -> Report {
    let budget = budget(options.budget);
    // As in step 5: a runtime the kernel refuses (no descriptors left) is a panic.
    let runtime = Runtime::with_budget(workers(&options), budget)
        .unwrap_or_else(|e| panic!("step 9: cannot start the runtime: {e}"));
    // The greedy connection, if asked for, is spawned first: it is queued before the others.
    let greedy = options.greedy.then(|| {
        let flood = greedy::flood_server()
            .unwrap_or_else(|e| panic!("step 9: cannot start the flood server: {e}"));
        runtime.spawn(greedy::read_flood(flood, workload.clock))
    });
    let fan_out = runtime.block_on(run(workload, options));
    let greedy = greedy.map(|task| {
        runtime
            .block_on(task)
            .unwrap_or_else(|e| panic!("step 9: the greedy connection failed: {e}"))
    });
    Report {
        fan_out,
        stats: Some(runtime.stats()),
        greedy,
    }
}

/// This step's fan-outs, as the binary (`--runtime`) and `compare` run them.
pub fn variants() -> Vec<Variant> {
    vec![
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "ours",
            about: "work stealing, one worker per core",
            fan_out: |w| fan_out(w, Options::default()).into(),
            cannot_run: testbed::variants::always,
        },
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "tokio",
            about: "tokio multi_thread, one worker per core",
            fan_out: |w| crate::on_tokio::fan_out(w, Options::default()).into(),
            cannot_run: testbed::variants::always,
        },
    ]
}
