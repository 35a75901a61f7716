//! The cooperative budget: a task whose socket always has data never returns `Pending` by
//! itself, so without a budget it keeps its worker until it is done and every other task on
//! that worker waits, timers included. With the budget it yields every 128 operations.

use std::time::Duration;

use step09_work_stealing::greedy::{Greedy, flood_server, read_flood};
use step09_work_stealing::runtime::budget::BUDGET;
use step09_work_stealing::runtime::time::sleep;
use step09_work_stealing::{Runtime, spawn};
use testbed::RunClock;

/// On one worker: the greedy connection reads its flood (megabytes, 16 bytes per read) while
/// another task waits, a millisecond at a time, until the greedy one has started, then 1 ms
/// more. Returns when that task woke, in ms of the run, and what the greedy task did.
fn race(budget: Option<u32>) -> (f64, Greedy) {
    let runtime = Runtime::with_budget(1, budget).unwrap();
    let clock = RunClock::start();
    let flood = flood_server().unwrap();
    runtime.block_on(async move {
        let greedy = spawn(read_flood(flood.clone(), clock));
        let sleeper = spawn(async move {
            while !flood.reading() {
                sleep(Duration::from_millis(1)).await;
            }
            sleep(Duration::from_millis(1)).await;
            clock.elapsed_ms()
        });
        let woke = sleeper.await;
        (woke, greedy.await.unwrap())
    })
}

/// Without the budget the sleeper wakes only after the greedy task is done (it starved); with
/// it, while the greedy task is still reading.
#[test]
fn the_budget_stops_one_greedy_task_from_starving_the_others() {
    let (woke, greedy) = race(None);
    eprintln!("no budget: sleeper woke at {woke:.1} ms; greedy read {greedy:?}");
    assert!(
        greedy.bytes > 100_000,
        "the flood held {} bytes",
        greedy.bytes
    );
    assert!(
        woke >= greedy.until_ms,
        "without a budget the greedy task should have kept the only worker: {woke} < {}",
        greedy.until_ms
    );
    let (woke, greedy) = race(Some(BUDGET));
    eprintln!("budget {BUDGET}: sleeper woke at {woke:.1} ms; greedy read {greedy:?}");
    assert!(
        woke < greedy.until_ms,
        "with the budget the sleeper should wake while the greedy task still reads: {woke} >= {}",
        greedy.until_ms
    );
}
