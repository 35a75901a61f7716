//! The cooperative budget: a task whose socket is always ready never returns `Pending` by
//! itself, so without a budget it keeps its worker until it is done and every other task on
//! that worker waits, timers included. With the budget it yields every 128 operations.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use step09_work_stealing::runtime::budget::BUDGET;
use step09_work_stealing::runtime::net::TcpStream;
use step09_work_stealing::runtime::time::sleep;
use step09_work_stealing::{Runtime, spawn};

/// How much the greedy task reads, 64 bytes at a time (131,072 reads).
const GREEDY_BYTES: usize = 8 << 20;

/// A server that floods each client with bytes until it goes away: the client's socket always
/// has something to read.
fn flood_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let chunk = vec![b'x'; 64 * 1024];
                while stream.write_all(&chunk).is_ok() {}
            });
        }
    });
    addr
}

/// On one worker: a greedy task reads the flood in 64-byte reads while another task sleeps
/// 5 ms. Returns (when the sleeper woke, when the greedy task finished), from the start.
fn race(budget: Option<u32>, server: SocketAddr) -> (Duration, Duration) {
    let runtime = Runtime::with_budget(1, budget).unwrap();
    runtime.block_on(async move {
        let start = Instant::now();
        let greedy = spawn(async move {
            let mut stream = TcpStream::connect(server).await.unwrap();
            let mut buf = [0u8; 64];
            let mut total = 0;
            while total < GREEDY_BYTES {
                total += stream.read(&mut buf).await.unwrap();
            }
            start.elapsed()
        });
        let sleeper = spawn(async move {
            sleep(Duration::from_millis(5)).await;
            start.elapsed()
        });
        (sleeper.await, greedy.await)
    })
}

/// Without the budget the sleeper wakes only after the greedy task is done (it starved); with
/// it, long before.
#[test]
fn the_budget_stops_one_greedy_task_from_starving_the_others() {
    let server = flood_server();
    let (woke, greedy_done) = race(None, server);
    eprintln!("no budget: sleeper woke at {woke:?}, greedy done at {greedy_done:?}");
    assert!(
        woke >= greedy_done,
        "without a budget the greedy task should have kept the only worker: {woke:?} < {greedy_done:?}"
    );
    let (woke, greedy_done) = race(Some(BUDGET), server);
    eprintln!("budget {BUDGET}: sleeper woke at {woke:?}, greedy done at {greedy_done:?}");
    assert!(
        woke < greedy_done,
        "with the budget the sleeper should wake while the greedy task still reads: {woke:?} >= {greedy_done:?}"
    );
}
