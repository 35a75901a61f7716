//! The runtime's promises, one test each: tasks run on every worker and their output comes
//! back; a panic reaches the `JoinHandle`, not the worker; no wake is lost across threads;
//! timers, `timeout`, `spawn_blocking` and the semaphore work across threads; shutdown drops
//! every task and frees the runtime.

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::channel::{mpsc, oneshot};
use futures::future::join_all;
use futures::{SinkExt, StreamExt};
use step06_async_await::blocking::spawn_blocking;
use step09_work_stealing::runtime::time::{sleep, timeout};
use step09_work_stealing::sync::Semaphore;
use step09_work_stealing::{Runtime, spawn};
use testbed::faults::within;

/// A future that is pending `n` times (waking itself each time), then ready.
async fn yield_times(n: usize) {
    let mut left = n;
    poll_fn(move |cx| {
        if left == 0 {
            return Poll::Ready(());
        }
        left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

/// 1,000 tasks that each yield ten times: every output comes back, and every poll is counted.
/// (Which worker polls how many is the scheduler's business: a workload this small may well
/// finish on one worker before the other wakes; `tests/fan_out.rs` checks the sharing.)
#[test]
fn tasks_run_and_their_output_comes_back() {
    let runtime = Runtime::new(2).unwrap();
    let total = runtime.block_on(async {
        let tasks = (0..1000u64).map(|i| {
            spawn(async move {
                yield_times(10).await;
                i
            })
        });
        join_all(tasks).await.into_iter().sum::<u64>()
    });
    assert_eq!(total, 999 * 1000 / 2);
    let stats = runtime.stats();
    assert_eq!(stats.polls.iter().sum::<u64>(), 1000 * 11, "{stats:?}");
    // A task hands its output over before its worker takes it off the table: the last one may
    // still be on it for a moment after `block_on` returns. It must leave, and soon.
    let gone = (0..1000).any(|_| {
        std::thread::sleep(Duration::from_millis(1));
        runtime.live_tasks() == 0
    });
    assert!(gone, "finished tasks leave the table");
}

/// A task's panic goes to whoever awaits its handle; the worker survives and runs the next.
#[test]
fn a_panic_reaches_the_join_handle_and_the_runtime_goes_on() {
    let runtime = Runtime::new(2).unwrap();
    let handle = runtime.spawn(async { panic!("boom in a task") });
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(handle);
    }));
    let message = *caught.unwrap_err().downcast::<&str>().unwrap();
    assert_eq!(message, "boom in a task");
    assert_eq!(runtime.block_on(runtime.spawn(async { 7 })), 7);
}

/// Pairs of tasks pass a token back and forth 2,000 times through channels, 50 pairs on two
/// workers: every send wakes a task that another worker may be polling or about to park. A
/// lost wake would hang a pair; the watchdog turns that into a failure.
#[test]
fn no_wake_is_lost_across_threads() {
    within(Duration::from_secs(60), "ping-pong", || {
        let runtime = Runtime::new(2).unwrap();
        let rounds = runtime.block_on(async {
            let pairs = (0..50).map(|_| {
                let (mut ping_tx, mut ping_rx) = mpsc::channel::<u32>(1);
                let (mut pong_tx, mut pong_rx) = mpsc::channel::<u32>(1);
                let echo = spawn(async move {
                    while let Some(n) = ping_rx.next().await {
                        if pong_tx.send(n + 1).await.is_err() {
                            break;
                        }
                    }
                });
                spawn(async move {
                    let mut n = 0;
                    for _ in 0..2000 {
                        ping_tx.send(n).await.unwrap();
                        n = pong_rx.next().await.unwrap();
                    }
                    drop(ping_tx);
                    echo.await;
                    n
                })
            });
            join_all(pairs).await
        });
        assert!(rounds.iter().all(|&n| n == 2000));
    });
}

/// Wakes from outside the workers (a plain thread, as the blocking pool's are) reach the
/// tasks: 200 tasks each wait for a oneshot that another thread completes.
#[test]
fn wakes_from_other_threads_reach_the_tasks() {
    let runtime = Runtime::new(2).unwrap();
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..200).map(|_| oneshot::channel()).unzip();
    let tasks: Vec<_> = receivers
        .into_iter()
        .map(|rx| runtime.spawn(async move { rx.await.unwrap() }))
        .collect();
    let sender = std::thread::spawn(move || {
        for (i, tx) in senders.into_iter().enumerate() {
            tx.send(i).unwrap();
        }
    });
    let got = runtime.block_on(join_all(tasks));
    sender.join().unwrap();
    assert_eq!(got, (0..200).collect::<Vec<_>>());
}

/// Timers set by tasks on any worker fire, in order of their deadlines; `timeout` cuts a
/// future that is too slow and lets a quick one finish; `spawn_blocking` hands its result back.
#[test]
fn timers_timeouts_and_the_blocking_pool_work_across_threads() {
    let runtime = Runtime::new(2).unwrap();
    runtime.block_on(async {
        let start = Instant::now();
        let sleepers = (1..=5u64).rev().map(|i| {
            spawn(async move {
                sleep(Duration::from_millis(i * 10)).await;
                (i, start.elapsed())
            })
        });
        let woke = join_all(sleepers).await;
        for (i, elapsed) in woke {
            assert!(elapsed >= Duration::from_millis(i * 10), "{i}: {elapsed:?}");
        }
        let slow = spawn(timeout(
            Duration::from_millis(20),
            sleep(Duration::from_secs(10)),
        ));
        assert!(slow.await.is_err(), "the slow future timed out");
        let quick = spawn(timeout(Duration::from_secs(10), async { 5 }));
        assert_eq!(quick.await, Ok(5));
        let answer = spawn(async { spawn_blocking(|| 6 * 7).await.unwrap() });
        assert_eq!(answer.await, 42);
    });
    assert_eq!(runtime.reactor_counts(), (0, 0), "no socket or timer left");
}

/// A semaphore of 3 shared by 100 tasks on two workers: never more than 3 hold a permit, and
/// all of them get one.
#[test]
fn the_semaphore_admits_at_most_k_across_threads() {
    let runtime = Runtime::new(2).unwrap();
    let semaphore = Arc::new(Semaphore::new(3));
    let (inside, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (semaphore, inside, peak) = (semaphore.clone(), inside.clone(), peak.clone());
            runtime.spawn(async move {
                let _permit = semaphore.acquire().await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                yield_times(3).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    runtime.block_on(join_all(tasks));
    assert_eq!(peak.load(Ordering::SeqCst), 3);
    assert_eq!(semaphore.available(), 3, "every permit came back");
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Dropping the runtime drops the tasks that never finished (here: one waiting on a socket that
/// never answers, one waiting forever), closes their sockets, and frees the runtime itself.
#[test]
fn shutdown_drops_every_task_and_frees_the_runtime() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (waiting, sleeping) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let runtime = Runtime::new(2).unwrap();
    let (flag_a, flag_b) = (DropFlag(waiting.clone()), DropFlag(sleeping.clone()));
    let connected = runtime.block_on(async move {
        let (tx, rx) = oneshot::channel();
        spawn(async move {
            let _flag = flag_a;
            let mut stream = step09_work_stealing::runtime::net::TcpStream::connect(addr)
                .await
                .unwrap();
            tx.send(()).unwrap();
            let mut buf = [0u8; 16];
            let _ = stream.read(&mut buf).await; // the server never writes
        });
        spawn(async move {
            let _flag = flag_b;
            std::future::pending::<()>().await;
        });
        rx.await.is_ok()
    });
    assert!(connected);
    let (mut accepted, _) = listener.accept().unwrap();
    assert_eq!(runtime.live_tasks(), 2);
    let shared = runtime.shared_weak();
    drop(runtime);
    assert!(waiting.load(Ordering::SeqCst) && sleeping.load(Ordering::SeqCst));
    assert!(shared.upgrade().is_none(), "the runtime was freed");
    // The task's socket was closed with it: the server reads end-of-file.
    use std::io::Read;
    let mut buf = [0u8; 1];
    assert_eq!(accepted.read(&mut buf).unwrap(), 0);
}
