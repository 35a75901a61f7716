//! The worked solutions of chapter 5's exercises ("Futures by hand"). The library stays as it
//! is: where an exercise asks to change it, the changed version is written here, beside the
//! test that runs it against the testbed's delay server.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::Duration;

use futures::FutureExt as _;
use futures::future::{Either, select};
use futures::stream::{FuturesUnordered, StreamExt as _};
use step05_futures::block_on;
use step05_futures::fetch::Fetch;
use step05_futures::join::JoinAll;
use step05_futures::net::{Connect, TcpStream};
use step05_futures::reactor::Reactor;
use step05_futures::time::{Sleep, sleep};
use testbed::{
    ConnectionRecord, ConnectionResult, FetchError, ResponseCheck, RunClock, ServerConfig,
    ServerHandle, Stage, Target, Workload,
};

// ANCHOR: count_polls
/// A future, and how many times it has been polled. Adding a `polls` field to `Fetch` and
/// counting at the top of its `poll` does the same; a wrapper leaves `Fetch` as it is.
struct CountPolls<F> {
    /// The future being counted.
    future: F,
    /// Polls so far.
    polls: u32,
}

impl<F: Future + Unpin> Future for CountPolls<F> {
    /// The future's output, and the number of polls it took.
    type Output = (F::Output, u32);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.polls += 1;
        let output = ready!(Pin::new(&mut this.future).poll(cx));
        Poll::Ready((output, this.polls))
    }
}

/// Every connection of `workload` as a `Fetch`, counted.
fn counted(workload: &Workload) -> impl Iterator<Item = CountPolls<Fetch>> + '_ {
    (0..workload.len()).map(|id| CountPolls {
        future: Fetch::new(workload, id),
        polls: 0,
    })
}

/// A hundred connections whose answers arrive spread out over time: connection 0 waits
/// 200 ms, connection `i` waits `2 * i` ms. Each answer is its own wake.
fn spread_out(server: &ServerHandle) -> Workload {
    let mut targets = vec![Target::new(server.addr(), "/delay/200")];
    targets.extend((1..100).map(|i| Target::new(server.addr(), format!("/delay/{}", 2 * i))));
    Workload::mixed(targets, Duration::from_secs(10))
}

/// Our `JoinAll` polls every unfinished connection whenever any of them is woken, so every
/// connection still running has been polled exactly as often as the others, and the slowest
/// one many times; `FuturesUnordered` polls only the connection that was woken, so the slowest
/// one is polled a handful of times.
#[test]
fn join_all_polls_everyone_unordered_polls_only_the_woken() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let joined = block_on(JoinAll::new(counted(&spread_out(&server))));
    let unordered = block_on(
        counted(&spread_out(&server))
            .collect::<FuturesUnordered<_>>()
            .collect::<Vec<_>>(),
    );
    for (result, _) in joined.iter().chain(&unordered) {
        assert!(result.ok, "{result:?}");
    }

    // JoinAll: one count for everyone still running, so in the order the connections
    // finished, the counts never go down.
    let mut by_finish = joined.clone();
    by_finish.sort_by(|a, b| a.0.done_ms.total_cmp(&b.0.done_ms));
    assert!(
        by_finish.windows(2).all(|pair| pair[0].1 <= pair[1].1),
        "{by_finish:?}"
    );
    // The slowest connection was polled once for every wake of anyone.
    let slowest_joined = joined[0].1;
    let slowest_unordered = unordered.iter().find(|(r, _)| r.id == 0).unwrap().1;
    assert!(
        slowest_unordered < slowest_joined,
        "unordered {slowest_unordered} polls, JoinAll {slowest_joined}"
    );
    let total = |runs: &[(ConnectionResult, u32)]| runs.iter().map(|(_, n)| n).sum::<u32>();
    assert!(total(&unordered) < total(&joined));
}
// ANCHOR_END: count_polls

// ANCHOR: fair_polling
/// A waker that only raises a flag: enough for an executor of one future.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// `block_on` for one future, with step 5's rule and its constant made a parameter: after
/// `polls_between_turns` polls in a row, ask the kernel for news (without waiting) even though
/// the future asked to be polled again. Returns the output, and how many times the reactor
/// turned (one `epoll_wait` each).
fn block_on_with<F: Future>(polls_between_turns: usize, future: F) -> (F::Output, usize) {
    let reactor = Rc::new(RefCell::new(Reactor::new().expect("create the reactor")));
    let _current = Reactor::enter(Rc::clone(&reactor));
    let woken = Arc::new(Flag(AtomicBool::new(true)));
    let waker = Waker::from(Arc::clone(&woken));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    let mut turns = 0;
    loop {
        let mut polls = 0;
        while polls < polls_between_turns && woken.0.swap(false, Ordering::SeqCst) {
            polls += 1;
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return (output, turns);
            }
        }
        // Still woken: only look. Not woken: wait for the kernel or a timer.
        let timeout = woken.0.load(Ordering::SeqCst).then_some(Duration::ZERO);
        let to_wake = reactor
            .borrow_mut()
            .turn(timeout)
            .expect("turn the reactor");
        turns += 1;
        to_wake.into_iter().for_each(Waker::wake);
    }
}

/// A future that wakes itself and returns `Pending` `n` times, then is ready: `n`
/// wake-and-poll round trips, as in the benchmark `wake_and_poll`.
fn yields(n: u32) -> impl Future<Output = ()> {
    let mut left = n;
    futures::future::poll_fn(move |cx| {
        if left == 0 {
            return Poll::Ready(());
        }
        left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

/// What each setting costs: 1,000 round trips make 1,000 reactor turns (system calls) at 1,
/// 7 at 128, none at `usize::MAX`.
#[test]
fn turns_per_thousand_round_trips() {
    assert_eq!(block_on_with(1, yields(1000)).1, 1000);
    assert_eq!(block_on_with(128, yields(1000)).1, 1000 / 128);
    assert_eq!(block_on_with(usize::MAX, yields(1000)).1, 0);
}

/// What each setting buys: a busy future, which wakes itself `SPINS` times, races a read whose
/// answer is already waiting in the socket (the test's server has written it before the race
/// starts). At 128 the reactor turns within 128 polls, hears of the answer, and the read wins;
/// at `usize::MAX` the reactor never turns, the read never hears of its answer, and the busy
/// future wins. Nothing here depends on timing.
#[test]
fn a_busy_future_hides_io_without_turns() {
    const SPINS: u64 = 100_000;
    let race = |polls_between_turns| {
        // A one-connection server that answers at once, and says when it has.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (go, go_rx) = std::sync::mpsc::channel();
        let (answered_tx, answered) = std::sync::mpsc::channel();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            go_rx.recv().unwrap();
            std::io::Write::write_all(&mut socket, b"the answer").unwrap();
            answered_tx.send(()).unwrap();
            socket // kept open until joined
        });
        let outcome = block_on_with(polls_between_turns, async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            // The answer is sent only now, while this task runs and the reactor cannot turn,
            // so no turn before the race can have seen it. Blocking the executor on purpose:
            // from here on the answer is in our socket's receive buffer, and only the
            // reactor can tell the read so.
            go.send(()).unwrap();
            answered.recv().unwrap();
            let spins = Cell::new(0u64);
            let busy = futures::future::poll_fn(|cx| {
                spins.set(spins.get() + 1);
                if spins.get() == SPINS {
                    return Poll::Ready(());
                }
                cx.waker().wake_by_ref();
                Poll::Pending
            });
            let mut buf = [0u8; 1024];
            let read = stream.read(&mut buf);
            match select(std::pin::pin!(busy), read).await {
                Either::Left(_) => None,
                Either::Right(_) => Some(spins.get()),
            }
        })
        .0;
        drop(server.join().unwrap());
        outcome
    };
    let with_turns = race(128).expect("the read finishes first");
    assert!(with_turns <= 2 * 128, "the read waited {with_turns} polls");
    assert_eq!(race(usize::MAX), None, "the read heard of its answer");
}
// ANCHOR_END: fair_polling

// ANCHOR: smart_join_all
/// The waker of one future of a `SmartJoinAll`: says which future, then wakes the task.
struct IndexWaker {
    /// The future's index.
    index: usize,
    /// The indices woken since the last poll, shared by all the wakers of one join.
    woken: Arc<Mutex<Vec<usize>>>,
    /// The waker of the task polling the join (the latest one it was polled with).
    parent: Arc<Mutex<Option<Waker>>>,
}

impl Wake for IndexWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.lock().unwrap().push(self.index);
        // Clone it out of the lock: waking runs the executor's code.
        let parent = self.parent.lock().unwrap().clone();
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

/// `JoinAll`, polling only the futures that were woken. Each future has its own waker, made
/// once, so `will_wake` keeps recognising it and the reactor does not clone it again.
struct SmartJoinAll<F: Future> {
    /// The futures not finished yet.
    futures: Vec<Option<F>>,
    /// The outputs of the finished ones.
    outputs: Vec<Option<F::Output>>,
    /// One waker per future.
    wakers: Vec<Waker>,
    /// Indices to poll: every future at first, then the woken ones.
    woken: Arc<Mutex<Vec<usize>>>,
    /// The task's waker, for the futures' wakers to pass the wake on.
    parent: Arc<Mutex<Option<Waker>>>,
    /// How many futures are not finished.
    running: usize,
}

impl<F: Future> SmartJoinAll<F> {
    fn new(futures: impl IntoIterator<Item = F>) -> SmartJoinAll<F> {
        let futures: Vec<Option<F>> = futures.into_iter().map(Some).collect();
        let n = futures.len();
        let woken = Arc::new(Mutex::new((0..n).collect()));
        let parent = Arc::new(Mutex::new(None));
        let wakers = (0..n)
            .map(|index| {
                Waker::from(Arc::new(IndexWaker {
                    index,
                    woken: Arc::clone(&woken),
                    parent: Arc::clone(&parent),
                }))
            })
            .collect();
        SmartJoinAll {
            futures,
            outputs: (0..n).map(|_| None).collect(),
            wakers,
            woken,
            parent,
            running: n,
        }
    }
}

// As in `JoinAll`: no pinned reference into the vectors is ever handed out, so moving a
// `SmartJoinAll` is harmless whatever the outputs are.
impl<F: Future> Unpin for SmartJoinAll<F> {}

impl<F: Future + Unpin> Future for SmartJoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = self.get_mut();
        {
            let mut parent = this.parent.lock().unwrap();
            if !parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *parent = Some(cx.waker().clone());
            }
        }
        let mut woken = std::mem::take(&mut *this.woken.lock().unwrap());
        woken.sort_unstable();
        woken.dedup(); // woken twice since the last poll: poll once
        for index in woken {
            // Already finished: a late wake, nothing to do.
            let Some(future) = this.futures[index].as_mut() else {
                continue;
            };
            let mut own = Context::from_waker(&this.wakers[index]);
            if let Poll::Ready(output) = Pin::new(future).poll(&mut own) {
                this.futures[index] = None;
                this.outputs[index] = Some(output);
                this.running -= 1;
            }
        }
        if this.running > 0 {
            return Poll::Pending;
        }
        Poll::Ready(
            this.outputs
                .iter_mut()
                .map(|output| output.take().expect("every future is done"))
                .collect(),
        )
    }
}

/// The fan-out with `SmartJoinAll`.
fn smart_fan_out(workload: &Workload) -> Vec<ConnectionResult> {
    block_on(SmartJoinAll::new(
        (0..workload.len()).map(|id| Fetch::new(workload, id)),
    ))
}

/// `SmartJoinAll` passes the fault suite's mixed run and its hang check, and on the
/// spread-out workload polls the slowest connection a handful of times, where `JoinAll` polls
/// it once for every wake of anyone.
#[test]
fn smart_join_all_polls_only_the_woken() {
    testbed::faults::mixed(smart_fan_out);
    testbed::faults::hang(smart_fan_out);
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let smart = block_on(SmartJoinAll::new(counted(&spread_out(&server))));
    let joined = block_on(JoinAll::new(counted(&spread_out(&server))));
    for (result, _) in smart.iter().chain(&joined) {
        assert!(result.ok, "{result:?}");
    }
    assert!(smart[0].1 < joined[0].1, "{} {}", smart[0].1, joined[0].1);
}
// ANCHOR_END: smart_join_all

// ANCHOR: timeout
/// The deadline passed first.
#[derive(Debug)]
struct Elapsed;

/// `future`, with a deadline `duration` after its first poll. Ready with `Ok(output)` if the
/// future finishes first; with `Err`, handing the unfinished future back (as `select` hands
/// back the loser), if the deadline passes first.
struct Timeout<F> {
    /// The future, until it finishes or is handed back.
    future: Option<F>,
    /// How long it may take.
    duration: Duration,
    /// The deadline, from the first poll on.
    sleep: Option<Sleep>,
}

fn timeout<F: Future + Unpin>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future: Some(future),
        duration,
        sleep: None,
    }
}

impl<F: Future + Unpin> Future for Timeout<F> {
    type Output = Result<F::Output, (Elapsed, F)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let future = this
            .future
            .as_mut()
            .expect("a Timeout polled after it finished");
        if let Poll::Ready(output) = Pin::new(future).poll(cx) {
            this.future = None;
            return Poll::Ready(Ok(output));
        }
        let duration = this.duration;
        let deadline = this.sleep.get_or_insert_with(|| sleep(duration));
        ready!(Pin::new(deadline).poll(cx));
        let unfinished = this.future.take().expect("not finished");
        Poll::Ready(Err((Elapsed, unfinished)))
    }
}

/// Where a connection without a deadline is.
enum State {
    /// The handshake is in flight.
    Connecting(Connect),
    /// Sending the request; `written` bytes are out.
    Writing { stream: TcpStream, written: usize },
    /// Reading the response to end-of-file.
    Reading { stream: TcpStream },
    /// Finished.
    Done,
}

/// Step 5's `Fetch` with its deadline taken out: connect, write, read, check; no timer.
struct Exchange {
    state: State,
    request: Vec<u8>,
    check: ResponseCheck,
    id: usize,
    clock: RunClock,
    timeout: Duration,
    /// Started at the first poll.
    record: Option<ConnectionRecord>,
}

impl Exchange {
    fn new(workload: &Workload, id: usize) -> Exchange {
        let target = &workload.targets[id];
        Exchange {
            state: State::Connecting(TcpStream::connect(target.addr)),
            request: target.request(),
            check: workload.response_check(),
            id,
            clock: workload.clock,
            timeout: workload.timeout,
            record: None,
        }
    }

    /// Moves from state to state as far as things are ready.
    fn advance(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FetchError>> {
        let record = self.record.as_mut().expect("started at the first poll");
        loop {
            match &mut self.state {
                State::Connecting(connect) => {
                    let stream = ready!(Pin::new(connect).poll(cx))
                        .map_err(|e| FetchError::io(Stage::Connect, e))?;
                    record.connected();
                    self.state = State::Writing { stream, written: 0 };
                }
                State::Writing { stream, written } => {
                    let n = ready!(stream.poll_write(cx, &self.request[*written..]))
                        .map_err(|e| FetchError::io(Stage::Write, e))?;
                    if n == 0 {
                        let zero = std::io::Error::from(std::io::ErrorKind::WriteZero);
                        return Poll::Ready(Err(FetchError::io(Stage::Write, zero)));
                    }
                    *written += n;
                    if *written == self.request.len() {
                        record.written();
                        let State::Writing { stream, .. } =
                            std::mem::replace(&mut self.state, State::Done)
                        else {
                            unreachable!("in the Writing state")
                        };
                        self.state = State::Reading { stream };
                    }
                }
                State::Reading { stream } => {
                    let mut buf = [0u8; 8 * 1024];
                    let n = ready!(stream.poll_read(cx, &mut buf))
                        .map_err(|e| FetchError::io(Stage::Read, e))?;
                    if n == 0 {
                        let check = std::mem::take(&mut self.check);
                        return Poll::Ready(check.finish().map(drop).map_err(FetchError::from));
                    }
                    record.received(n);
                    self.check.feed(&buf[..n])?;
                }
                State::Done => panic!("an Exchange was polled after it finished"),
            }
        }
    }

    /// The deadline passed: the connection fails in the stage it had reached, and its socket
    /// closes as `self` is dropped.
    fn timed_out(mut self) -> ConnectionResult {
        let record = self.record.take().expect("polled at least once");
        let error = record.timed_out(record.stage_reached());
        record.finish(Err(error))
    }
}

impl Future for Exchange {
    type Output = ConnectionResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ConnectionResult> {
        let this = self.get_mut();
        if this.record.is_none() {
            let record = ConnectionRecord::start(this.clock, this.id, this.timeout);
            this.record = Some(record);
        }
        let outcome = ready!(this.advance(cx));
        this.state = State::Done;
        let record = this.record.take().expect("a connection finishes once");
        Poll::Ready(record.finish(outcome))
    }
}

/// One connection: an `Exchange` inside a `Timeout`.
fn timed_fetch(workload: &Workload, id: usize) -> impl Future<Output = ConnectionResult> + Unpin {
    timeout(workload.timeout, Exchange::new(workload, id)).map(|outcome| match outcome {
        Ok(result) => result,
        Err((Elapsed, unfinished)) => unfinished.timed_out(),
    })
}

/// The fan-out with `Timeout` around deadline-free exchanges.
fn timed_fan_out(workload: &Workload) -> Vec<ConnectionResult> {
    block_on(JoinAll::new(
        (0..workload.len()).map(|id| timed_fetch(workload, id)),
    ))
}

/// `Timeout` around an `Exchange` passes the fault suite's checks (the hang check is the one
/// that needs the deadline), and a timed-out exchange leaves no socket and no timer behind.
#[test]
fn timeout_as_a_combinator() {
    testbed::faults::all_succeed(timed_fan_out);
    testbed::faults::hang(timed_fan_out);
    testbed::faults::mixed(timed_fan_out);

    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let target = Target::new(server.addr(), "/chaos/hang");
    let workload = Workload::uniform(target, 3, Duration::from_millis(100));
    let (results, registrations, timers) = block_on(
        JoinAll::new((0..3).map(|id| timed_fetch(&workload, id))).map(|results| {
            let reactor = Reactor::current();
            let reactor = reactor.borrow();
            (results, reactor.live_registrations(), reactor.live_timers())
        }),
    );
    for r in &results {
        assert!(
            !r.ok && r.error.as_deref().unwrap().contains("timed out"),
            "{r:?}"
        );
    }
    assert_eq!((registrations, timers), (0, 0));
}
// ANCHOR_END: timeout
