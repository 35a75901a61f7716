//! No lost wakeups: 10,000 tasks each sleeping a random 0-20 ms all finish, run after run; and
//! many tasks connecting and reading at once all finish. A lost wakeup would leave a task
//! waiting forever: each run is bounded, so it would fail, not hang.

use std::time::Duration;

use step05_futures::net::TcpStream;
use step05_futures::time::sleep;
use step05_futures::{block_on, spawn};
use testbed::{ServerConfig, ServerHandle};

/// Runs `run` on its own thread and fails if it does not finish within `limit`.
fn bounded<T: Send + 'static>(limit: Duration, run: impl FnOnce() -> T + Send + 'static) -> T {
    testbed::faults::within(
        limit,
        "the run (a task waiting for a wake that never comes?)",
        run,
    )
}

/// A small deterministic generator.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A future that sleeps, then yields its number: written with the hand-made combinator of
/// `futures` so this test needs no `async`.
fn sleeper(id: usize, ms: u64) -> impl std::future::Future<Output = usize> {
    use futures::FutureExt;
    sleep(Duration::from_millis(ms)).map(move |()| id)
}

/// 10,000 tasks sleeping 0-20 ms, five runs: every task's output comes back.
#[test]
fn ten_thousand_sleeping_tasks_all_wake() {
    for run in 0..5u64 {
        let total = bounded(Duration::from_secs(60), move || {
            block_on(
                futures::future::lazy(move |_| {
                    let mut seed = run * 7919 + 1;
                    (0..10_000)
                        .map(|id| spawn(sleeper(id, xorshift(&mut seed) % 21)))
                        .collect::<Vec<_>>()
                })
                .then(futures::future::join_all),
            )
        });
        assert_eq!(total.len(), 10_000);
        assert!(total.iter().enumerate().all(|(i, id)| i == *id));
    }
}

use futures::FutureExt as _;

/// Sends a request on a connected stream and reads the answer to end-of-file: a hand-written
/// future, so this test needs no `async`. Its output is the number of bytes read.
struct Exchange {
    stream: TcpStream,
    request: Vec<u8>,
    written: usize,
    read: usize,
}

impl std::future::Future for Exchange {
    type Output = usize;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<usize> {
        use std::task::{Poll, ready};
        let this = &mut *self;
        loop {
            if this.written < this.request.len() {
                let n = ready!(this.stream.poll_write(cx, &this.request[this.written..]))
                    .expect("write");
                this.written += n;
            } else {
                let mut buf = [0u8; 4096];
                match ready!(this.stream.poll_read(cx, &mut buf)).expect("read") {
                    0 => return Poll::Ready(this.read),
                    n => this.read += n,
                }
            }
        }
    }
}

/// 500 tasks at once, each connecting to the delay server and reading its answer to the end:
/// all of them get the whole answer.
#[test]
fn many_tasks_connecting_and_reading_all_finish() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let addr = server.addr();
    testbed::limits::ensure_open_files(1200).unwrap();
    let sizes = bounded(Duration::from_secs(60), move || {
        block_on(
            futures::future::lazy(move |_| {
                (0..500)
                    .map(|i| {
                        let request =
                            format!("GET /delay/{} HTTP/1.0\r\n\r\n", i % 20).into_bytes();
                        spawn(TcpStream::connect(addr).then(move |stream| Exchange {
                            stream: stream.expect("connect"),
                            request,
                            written: 0,
                            read: 0,
                        }))
                    })
                    .collect::<Vec<_>>()
            })
            .then(futures::future::join_all),
        )
    });
    assert_eq!(sizes.len(), 500);
    assert!(sizes.iter().all(|&n| n > 0), "{sizes:?}");
}

/// A task that wakes itself again and again (never waiting for anything) cannot keep a timer
/// from firing: the executor asks the kernel for news every so many polls, even while tasks are
/// queued. The timer fires while the busy task is far from done.
#[test]
fn a_busy_task_cannot_hold_up_a_timer() {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::task::Poll;

    const SPINS: u64 = 2_000_000;
    let spins_when_timer_fired = bounded(Duration::from_secs(60), || {
        block_on(
            futures::future::lazy(|_| {
                let spins = Rc::new(Cell::new(0u64));
                let counter = Rc::clone(&spins);
                // Wakes itself and returns Pending, SPINS times: busy, but never waiting.
                spawn(futures::future::poll_fn(move |cx| {
                    counter.set(counter.get() + 1);
                    if counter.get() == SPINS {
                        return Poll::Ready(());
                    }
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }));
                sleep(Duration::from_millis(5)).map(move |()| spins.get())
            })
            .flatten(),
        )
    });
    assert!(
        spins_when_timer_fired < SPINS,
        "the timer waited for the busy task to finish"
    );
}

/// A late wake reaches nobody: the waker of a task that has finished, used after another task
/// has taken its place in the executor, does not poll that other task. (The executor reuses
/// places, not ids; polled twice, the second task would count 2.)
#[test]
fn a_late_wake_does_not_poll_the_task_in_its_place() {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::task::{Poll, Waker};

    let polls = bounded(Duration::from_secs(10), || {
        block_on(
            futures::future::lazy(|_| {
                let kept: Rc<RefCell<Option<Waker>>> = Rc::default();
                let keep = Rc::clone(&kept);
                let first = spawn(std::future::poll_fn(move |cx| {
                    *keep.borrow_mut() = Some(cx.waker().clone());
                    Poll::Ready(())
                }));
                first.map(move |()| kept)
            })
            .flatten()
            .then(|kept| {
                // The first task has finished: the second takes its place, and stays pending.
                let polls = Rc::new(Cell::new(0));
                let count = Rc::clone(&polls);
                let _second = spawn(std::future::poll_fn(move |_| {
                    count.set(count.get() + 1);
                    Poll::<()>::Pending
                }));
                kept.take().expect("the first task kept its waker").wake();
                // Let the executor work through its queue (both wakes) before looking.
                sleep(Duration::from_millis(20)).map(move |()| polls.get())
            }),
        )
    });
    assert_eq!(
        polls, 1,
        "the second task was polled by the first task's late wake"
    );
}
