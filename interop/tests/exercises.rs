//! Worked solutions of the interop chapter's exercises: who can turn a reactor, tokio's stream
//! adapted to `futures::io`, and timers that work under any executor. (The price of the
//! background thread is a benchmark: `benches/interop.rs`.)
//!
//! The timers are a small module of their own here (on a thread of their own, as the background
//! reactor is), because the background reactor's thread and poll are private to the crate.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::executor::LocalPool;
use futures::io::{AsyncRead, AsyncWrite};
use interop::background;
use interop::net;
use testbed::server::delay_response;
use testbed::{ResponseCheck, ServerConfig, ServerHandle, Target, Workload};

/// Runs `f` on a thread and waits at most a minute for it: a lost wake-up fails the test
/// instead of hanging it. (A guard against hangs, not a timing check: every case takes
/// milliseconds.)
fn unless_it_hangs<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    testbed::faults::within(Duration::from_secs(60), "the test (a wake-up was lost?)", f)
}

/// A response check as the workloads make them.
fn check() -> ResponseCheck {
    ResponseCheck::new(1 << 20)
}

// ANCHOR: who_turns
/// Only `Send` values can move to another thread. What `background.rs` gives its thread, and
/// what the pollers keep, all are; step 5's `Rc<RefCell<Reactor>>` is not, which is why no
/// thread can be handed it to turn (the compiler refuses `thread::spawn` with it).
#[test]
fn what_the_background_reactor_shares_is_send() {
    fn is_send<T: Send>() {}
    is_send::<mio::Poll>(); // moved into the reactor thread, which alone waits on it
    is_send::<mio::Registry>(); // kept by the pollers: registers from any thread
    is_send::<Arc<Mutex<Option<std::task::Waker>>>>(); // per-socket state, shared
    is_send::<background::TcpStream>();
}

/// The case that never woke, with the background reactor's stream instead of step 5's: the
/// same `LocalPool`, nobody turning anything by hand, and the request completes, because the
/// reactor's own thread waits for the kernel and wakes the pool's task.
#[test]
fn the_background_reactor_wakes_a_local_pool() {
    let (server, workload) = Workload::zero_delay(1).unwrap();
    let target = workload.targets[0].clone();
    let summary = unless_it_hangs(move || {
        let mut pool = LocalPool::new();
        pool.run_until(async {
            let mut stream = background::TcpStream::connect(target.addr).await.unwrap();
            net::exchange(&mut stream, &target, check()).await.unwrap()
        })
    });
    assert_eq!(summary.bytes, delay_response(Duration::ZERO).len() as u64);
    drop(server);
}
// ANCHOR_END: who_turns

// ANCHOR: compat
/// tokio's `TcpStream`, seen through `futures::io`'s traits. A wrapper of our own, because
/// neither the traits nor the type are ours (the orphan rule).
struct Compat(tokio::net::TcpStream);

impl AsyncRead for Compat {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        // tokio reads into a `ReadBuf` (which tracks what is filled); futures into a slice.
        let mut read_buf = tokio::io::ReadBuf::new(buf);
        match tokio::io::AsyncRead::poll_read(Pin::new(&mut self.get_mut().0), cx, &mut read_buf) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(read_buf.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Compat {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(Pin::new(&mut self.get_mut().0), cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_flush(Pin::new(&mut self.get_mut().0), cx)
    }

    /// futures calls it `close`, tokio `shutdown`: both end the writing side.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut self.get_mut().0), cx)
    }
}

/// Step 6's `net::exchange`, written against `futures::io`, runs over tokio's stream inside a
/// tokio runtime, and reads the whole response.
#[test]
fn net_exchange_runs_over_tokio_stream() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let target = Target::new(server.addr(), "/delay/50");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let summary = runtime.block_on(async {
        let stream = tokio::net::TcpStream::connect(target.addr).await.unwrap();
        net::exchange(&mut Compat(stream), &target, check())
            .await
            .unwrap()
    });
    let expected = delay_response(Duration::from_millis(50)).len() as u64;
    assert_eq!(summary.bytes, expected);
}
// ANCHOR_END: compat

// ANCHOR: timers
/// Timers for any executor: a heap of deadlines under a mutex, and a thread that sleeps in
/// `epoll_wait` until the earliest one, interrupted by a `mio::Waker` when an earlier deadline
/// is added. The same design would sit inside `background.rs`, sharing its thread.
mod timers {
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, HashMap};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Mutex, MutexGuard, OnceLock};
    use std::task::{Context, Poll, Waker};
    use std::time::{Duration, Instant};

    /// One timer: has it fired, and who waits for it.
    #[derive(Default)]
    struct Timer {
        fired: bool,
        waker: Option<Waker>,
    }

    /// The deadlines, and the timers still wanted (a removed one leaves its heap entry behind,
    /// skipped when it comes up).
    #[derive(Default)]
    struct State {
        heap: BinaryHeap<Reverse<(Instant, u64)>>,
        timers: HashMap<u64, Timer>,
        next_id: u64,
    }

    /// The timer thread: the state, and how to interrupt its sleep.
    struct TimerThread {
        state: Mutex<State>,
        interrupt: mio::Waker,
    }

    static THREAD: OnceLock<Result<TimerThread, String>> = OnceLock::new();

    /// The timer thread, started on first use.
    fn thread() -> &'static TimerThread {
        THREAD
            .get_or_init(|| {
                let poll = mio::Poll::new().map_err(|e| e.to_string())?;
                let interrupt =
                    mio::Waker::new(poll.registry(), mio::Token(0)).map_err(|e| e.to_string())?;
                std::thread::Builder::new()
                    .name("background-timers".into())
                    .spawn(move || turn_forever(poll))
                    .map_err(|e| e.to_string())?;
                Ok(TimerThread {
                    state: Mutex::new(State::default()),
                    interrupt,
                })
            })
            .as_ref()
            .expect("start the timer thread")
    }

    fn lock() -> MutexGuard<'static, State> {
        testbed::lock(&thread().state)
    }

    /// Fire what is due, wake who waits, sleep until the next deadline (or an interrupt).
    fn turn_forever(mut poll: mio::Poll) {
        let mut events = mio::Events::with_capacity(8);
        loop {
            let (due, next) = {
                let mut state = lock();
                let now = Instant::now();
                let mut due = Vec::new();
                let mut next = None;
                while let Some(&Reverse((deadline, id))) = state.heap.peek() {
                    if deadline > now {
                        next = Some(deadline - now);
                        break;
                    }
                    state.heap.pop();
                    if let Some(timer) = state.timers.get_mut(&id) {
                        timer.fired = true;
                        due.extend(timer.waker.take());
                    }
                }
                (due, next)
            };
            for waker in due {
                waker.wake(); // outside the lock
            }
            // An interrupt that came before this call is not lost: mio's Waker stays
            // readable until the poll has seen it.
            if let Err(e) = poll.poll(&mut events, next) {
                assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "epoll_wait: {e}");
            }
        }
    }

    /// Adds a timer; interrupts the thread if it is now the earliest.
    fn add(deadline: Instant) -> u64 {
        let earliest = {
            let mut state = lock();
            let id = state.next_id;
            state.next_id += 1;
            let earlier = state
                .heap
                .peek()
                .is_none_or(|Reverse((d, _))| deadline < *d);
            state.heap.push(Reverse((deadline, id)));
            state.timers.insert(id, Timer::default());
            earlier.then_some(id).ok_or(id)
        };
        match earliest {
            Ok(id) => {
                thread()
                    .interrupt
                    .wake()
                    .expect("interrupt the timer thread");
                id
            }
            Err(id) => id,
        }
    }

    /// Whether timer `id` is still wanted (for tests).
    pub fn is_active(id: u64) -> bool {
        lock().timers.contains_key(&id)
    }

    /// A future ready at its deadline, under any executor. Dropping it removes the timer.
    pub struct Sleep {
        id: u64,
    }

    /// Sleeps for `duration`.
    pub fn sleep(duration: Duration) -> Sleep {
        Sleep {
            id: add(Instant::now() + duration),
        }
    }

    impl Sleep {
        /// Its timer's id.
        pub fn id(&self) -> u64 {
            self.id
        }
    }

    impl Future for Sleep {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut state = lock();
            let timer = state
                .timers
                .get_mut(&self.id)
                .expect("removed only by drop");
            if timer.fired {
                return Poll::Ready(());
            }
            // Checked and left under the lock the thread fires under: no lost wake-up.
            timer.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    impl Drop for Sleep {
        fn drop(&mut self) {
            let removed = lock().timers.remove(&self.id);
            drop(removed); // its waker (another executor's) dropped outside the lock
        }
    }

    /// The time ran out.
    #[derive(Debug, PartialEq, Eq)]
    pub struct Elapsed;

    /// `future`, unless `duration` passes first (then it is dropped: cancelled).
    pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
        let mut future = std::pin::pin!(future);
        let mut sleep = sleep(duration);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(value) = future.as_mut().poll(cx) {
                return Poll::Ready(Ok(value));
            }
            Pin::new(&mut sleep).poll(cx).map(|()| Err(Elapsed))
        })
        .await
    }
}

/// Three background sleeps under `futures::executor::block_on` end in deadline order, none
/// before its deadline, and they overlap: every one began before any ended.
#[test]
fn background_sleeps_work_under_futures_block_on() {
    let done = unless_it_hangs(|| {
        let done = Mutex::new(Vec::new());
        let sleeps = [150u64, 50, 100].map(|ms| {
            let done = &done;
            async move {
                let began = Instant::now();
                timers::sleep(Duration::from_millis(ms)).await;
                done.lock().unwrap().push((ms, began, Instant::now()));
            }
        });
        futures::executor::block_on(futures::future::join_all(sleeps));
        done.into_inner().unwrap()
    });
    let order: Vec<u64> = done.iter().map(|d| d.0).collect();
    assert_eq!(order, vec![50, 100, 150]);
    for (ms, began, ended) in &done {
        assert!(*ended >= *began + Duration::from_millis(*ms), "woke early");
    }
    let last_began = done.iter().map(|d| d.1).max().unwrap();
    let first_ended = done.iter().map(|d| d.2).min().unwrap();
    assert!(last_began < first_ended, "the sleeps ran one after another");
}

/// A timeout around a background-reactor request: it cuts a 3-second response short, under
/// `futures::executor::block_on` and under a tokio runtime built without tokio's own timers;
/// and it lets a quick one through.
#[test]
fn background_timeout_works_under_any_executor() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let slow = Target::new(server.addr(), "/delay/3000");
    let quick = Target::new(server.addr(), "/delay/0");
    let get = |target: Target, ms: u64| async move {
        timers::timeout(Duration::from_millis(ms), async move {
            let mut stream = background::TcpStream::connect(target.addr).await.unwrap();
            net::exchange(&mut stream, &target, check()).await.unwrap()
        })
        .await
        .map(|summary| summary.bytes)
    };
    let (slow2, quick2) = (slow.clone(), quick.clone());
    let on_futures = unless_it_hangs(move || {
        futures::executor::block_on(async { (get(slow2, 100).await, get(quick2, 10_000).await) })
    });
    let on_tokio = unless_it_hangs(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build() // no enable_time, no enable_io: only our reactor and timers
            .unwrap();
        runtime.block_on(async { (get(slow, 100).await, get(quick, 10_000).await) })
    });
    let expected = delay_response(Duration::ZERO).len() as u64;
    for (timed_out, answered) in [on_futures, on_tokio] {
        assert_eq!(timed_out, Err(timers::Elapsed));
        assert_eq!(answered, Ok(expected));
    }
}

/// A dropped sleep takes its timer away: a cancelled timeout leaves nothing behind.
#[test]
fn a_dropped_sleep_removes_its_timer() {
    let sleep = timers::sleep(Duration::from_secs(3600));
    let id = sleep.id();
    assert!(timers::is_active(id));
    drop(sleep);
    assert!(!timers::is_active(id));
}
// ANCHOR_END: timers
