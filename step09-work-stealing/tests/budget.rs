//! The cooperative budget: a task whose socket is always ready never returns `Pending` by
//! itself, so without a budget it keeps its worker until it is done and every other task on
//! that worker waits, timers included. With the budget it yields every 128 operations.

use std::net::SocketAddr;
use std::time::Duration;

use step09_work_stealing::greedy::{HEAD_START, flood_server, read_flood};
use step09_work_stealing::runtime::budget::BUDGET;
use step09_work_stealing::runtime::time::sleep;
use step09_work_stealing::{Runtime, spawn};
use testbed::RunClock;

/// On one worker: the greedy connection reads 8 MiB of the flood in 64-byte reads (131,072
/// reads, after its head start) while another task sleeps until 10 ms after the greedy one
/// started reading. Returns (when the sleeper woke, when the greedy task finished), in ms of
/// the run.
fn race(budget: Option<u32>, server: SocketAddr) -> (f64, f64) {
    let runtime = Runtime::with_budget(1, budget).unwrap();
    let clock = RunClock::start();
    runtime.block_on(async move {
        let greedy = spawn(read_flood(server, 8 << 20, clock));
        let sleeper = spawn(async move {
            sleep(HEAD_START + Duration::from_millis(10)).await;
            clock.elapsed_ms()
        });
        let woke = sleeper.await;
        let (_, greedy_done) = greedy.await.unwrap();
        (woke, greedy_done)
    })
}

/// Without the budget the sleeper wakes only after the greedy task is done (it starved); with
/// it, long before.
#[test]
fn the_budget_stops_one_greedy_task_from_starving_the_others() {
    let server = flood_server().unwrap();
    let (woke, greedy_done) = race(None, server);
    eprintln!("no budget: sleeper woke at {woke:.1} ms, greedy done at {greedy_done:.1} ms");
    assert!(
        woke >= greedy_done,
        "without a budget the greedy task should have kept the only worker: {woke} < {greedy_done}"
    );
    let (woke, greedy_done) = race(Some(BUDGET), server);
    eprintln!("budget {BUDGET}: sleeper woke at {woke:.1} ms, greedy done at {greedy_done:.1} ms");
    assert!(
        woke < greedy_done,
        "with the budget the sleeper should wake while the greedy task still reads: {woke} >= {greedy_done}"
    );
}
