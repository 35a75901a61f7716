//! The fan-out with `async`/`.await`, on step 5's runtime: a task per connection, at most
//! `limit` at a time if asked, and, if asked, a task that blocks, to show what that does to
//! the others.

use std::rc::Rc;
use std::time::Duration;

use futures::future::join_all;
use step05_futures::time::sleep;
use step05_futures::{block_on, spawn};
use testbed::{ConnectionRecord, ConnectionResult, Outcome, RunClock, Variant, Workload};

use crate::blocking::spawn_blocking;
use crate::fetch::fetch;
use crate::sync::Semaphore;

/// A task that blocks for a while, to show what that does to the others.
#[derive(Debug, Clone, Copy)]
pub struct Blocking {
    /// How long it blocks.
    pub duration: Duration,
    /// Whether it does its blocking on the blocking pool (the way out) instead of on the loop.
    pub on_pool: bool,
}

/// How to run the fan-out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// At most this many connections in flight (a semaphore); `None`: no limit.
    pub limit: Option<usize>,
    /// A task that blocks, if any.
    pub block: Option<Blocking>,
    /// Print a task dump (`step05_futures::dump`) to stderr this long into the run (our
    /// runtime only).
    pub dump_after: Option<Duration>,
}

/// What a fan-out returns: the results, and when the blocking task (if any) blocked, in ms.
#[derive(Debug, Clone)]
pub struct FanOut {
    /// One result per connection, in id order.
    pub results: Vec<ConnectionResult>,
    /// (started, ended) of the blocking task's blocking.
    pub blocked: Option<(f64, f64)>,
}

impl From<FanOut> for Outcome {
    /// The report gets the results, and `blocked_from_ms` / `blocked_until_ms` if a task blocked.
    fn from(fan_out: FanOut) -> Outcome {
        let mut outcome = Outcome::from(fan_out.results);
        if let Some((from, until)) = fan_out.blocked {
            let tenths = |ms: f64| (ms * 10.0).round() / 10.0;
            outcome
                .extra
                .insert("blocked_from_ms".into(), tenths(from).into());
            outcome
                .extra
                .insert("blocked_until_ms".into(), tenths(until).into());
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
        .map(|permits| Rc::new(Semaphore::new(permits)));
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

/// Runs the fan-out on our runtime (with a task dump on stderr, if `options` asks for one).
pub fn fan_out(workload: &Workload, options: Options) -> FanOut {
    block_on(async {
        if let Some(after) = options.dump_after {
            // A task of its own, dropped with the others when the fan-out ends.
            spawn(async move {
                sleep(after).await;
                eprint!("{}", step05_futures::dump::dump());
            });
        }
        run(workload, options).await
    })
}

/// This step's fan-outs, one per runtime, as the binary (`--runtime`) and `compare` run them:
/// no limit, nothing blocking.
pub fn variants() -> Vec<Variant> {
    vec![
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "ours",
            about: "Step 5's reactor and executor",
            fan_out: |w| fan_out(w, Options::default()).into(),
            cannot_run: testbed::variants::always,
        },
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "tokio",
            about: "tokio, one thread (current_thread)",
            fan_out: |w| crate::on_tokio::fan_out(w, Options::default()).into(),
            cannot_run: testbed::variants::always,
        },
    ]
}
