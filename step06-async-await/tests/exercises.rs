//! The worked solutions of chapter 6's exercises ("async/await"). The library stays as it is:
//! where an exercise asks to change it, the changed version is written here, beside the test
//! that runs it against the testbed's delay server.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Poll, ready};
use std::time::{Duration, Instant};

use futures::future::join_all;
use step05_futures::net::{TcpListener, TcpStream};
use step05_futures::time::sleep;
use step05_futures::{block_on, spawn};
use step06_async_await::fetch::{exchange, fetch};
use step06_async_await::sync::{Event, Mutex};
use step06_async_await::timeout::timeout;
use step06_async_await::yield_now::yield_now;
use testbed::{
    ConnectionRecord, ConnectionResult, FetchError, ResponseCheck, ServerConfig, ServerHandle,
    Stage, Target, Workload,
};

// ANCHOR: await_in_turn
/// Each fetch awaited before the next one starts: step 1's sequential client, with `.await`.
async fn one_after_another(workload: &Workload) -> Vec<ConnectionResult> {
    let mut results = Vec::new();
    for (id, target) in workload.targets.iter().enumerate() {
        let (record, check) = (workload.record(id), workload.response_check());
        results.push(fetch(target.clone(), record, check).await);
    }
    results
}

/// All the fetches joined inside one task, none spawned: step 5's way.
async fn joined_in_one_task(workload: &Workload) -> Vec<ConnectionResult> {
    let fetches = workload.targets.iter().enumerate().map(|(id, target)| {
        let (record, check) = (workload.record(id), workload.response_check());
        fetch(target.clone(), record, check)
    });
    join_all(fetches).await
}

/// Awaited in turn, the connections form a staircase: each starts after the previous one is
/// done. Joined in one task, without `spawn`, they overlap as spawned tasks do.
#[test]
fn awaiting_in_turn_is_a_staircase_joining_is_not() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let staircase = block_on(one_after_another(&Workload::delayed(server.addr(), 5, 20)));
    let joined = block_on(joined_in_one_task(&Workload::delayed(server.addr(), 5, 20)));
    for r in staircase.iter().chain(&joined) {
        assert!(r.ok, "{r:?}");
    }
    for pair in staircase.windows(2) {
        assert!(pair[1].start_ms >= pair[0].done_ms, "{pair:?}");
    }
    testbed::faults::assert_all_started_before_any_finished(&joined);
}
// ANCHOR_END: await_in_turn

// ANCHOR: shared_buffer
thread_local! {
    /// One read buffer for all the connections of this thread.
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; 8 * 1024]);
}

/// `exchange` without a buffer in its state: each read goes into the thread's buffer, and its
/// bytes are used (counted, fed to the check) before the next `.await`, inside `poll_fn`.
async fn small_exchange(
    target: &Target,
    record: &mut ConnectionRecord,
    check: &mut ResponseCheck,
) -> Result<(), FetchError> {
    let mut stream = TcpStream::connect(target.addr)
        .await
        .map_err(|e| FetchError::io(Stage::Connect, e))?;
    record.connected();
    stream
        .write_all(&target.request())
        .await
        .map_err(|e| FetchError::io(Stage::Write, e))?;
    record.written();
    loop {
        let n = std::future::poll_fn(|cx| {
            BUFFER.with_borrow_mut(|buf| {
                let n = ready!(stream.poll_read(cx, buf))
                    .map_err(|e| FetchError::io(Stage::Read, e))?;
                record.received(n);
                check.feed(&buf[..n])?;
                Poll::Ready(Ok::<usize, FetchError>(n))
            })
        })
        .await?;
        if n == 0 {
            return Ok(()); // end-of-file: the response is complete
        }
    }
}

/// `fetch::fetch`, with `small_exchange` inside the timeout.
async fn small_fetch(
    target: Target,
    mut record: ConnectionRecord,
    mut check: ResponseCheck,
) -> ConnectionResult {
    let left = record.deadline().saturating_duration_since(Instant::now());
    let outcome = match timeout(left, small_exchange(&target, &mut record, &mut check)).await {
        Ok(Ok(())) => check.finish().map(drop).map_err(FetchError::from),
        Ok(Err(error)) => Err(error),
        Err(_elapsed) => Err(record.timed_out(record.stage_reached())),
    };
    record.finish(outcome)
}

/// The fan-out of `fan_out::run`, a task per connection, with `small_fetch`.
fn small_fan_out(workload: &Workload) -> Vec<ConnectionResult> {
    block_on(async {
        let tasks: Vec<_> = (0..workload.len())
            .map(|id| {
                let target = workload.targets[id].clone();
                let (record, check) = (workload.record(id), workload.response_check());
                spawn(small_fetch(target, record, check))
            })
            .collect();
        join_all(tasks).await
    })
}

/// The state of `small_exchange` is a few hundred bytes where `exchange`'s holds its 8 KiB
/// buffer, and it still passes the fault suite's mixed run (every response checked byte by
/// byte, with many connections sharing the buffer) and its hang check.
#[test]
fn a_shared_buffer_shrinks_the_future() {
    let w = Workload::uniform(
        Target::new(([127, 0, 0, 1], 9).into(), "/"),
        1,
        Duration::from_secs(1),
    );
    let (mut record, mut check) = (w.record(0), w.response_check());
    let small = std::mem::size_of_val(&small_exchange(&w.targets[0], &mut record, &mut check));
    let (mut record, mut check) = (w.record(0), w.response_check());
    let exchange = std::mem::size_of_val(&exchange(&w.targets[0], &mut record, &mut check));
    assert!(small < 1024, "{small} bytes");
    assert!(exchange >= 8 * 1024, "{exchange} bytes");
    testbed::faults::mixed(small_fan_out);
    testbed::faults::hang(small_fan_out);
}
// ANCHOR_END: shared_buffer

// ANCHOR: starve
/// Computes for `duration` without ever awaiting, or, with `yield_every`, awaiting
/// `yield_now` after each slice of that length. Returns when it started and ended, in ms of the
/// run's clock.
async fn compute(
    clock: testbed::RunClock,
    duration: Duration,
    yield_every: Option<Duration>,
) -> (f64, f64) {
    sleep(Duration::from_millis(10)).await;
    let started = clock.elapsed_ms();
    let end = Instant::now() + duration;
    let slice = yield_every.unwrap_or(duration);
    while Instant::now() < end {
        let slice_end = Instant::now() + slice;
        while Instant::now() < slice_end && Instant::now() < end {
            std::hint::spin_loop(); // the "computation"
        }
        if yield_every.is_some() {
            yield_now().await;
        }
    }
    (started, clock.elapsed_ms())
}

/// Ten connections to `/delay/20`, beside a task that computes for 400 ms.
fn beside_a_computation(yield_every: Option<Duration>) -> (Vec<ConnectionResult>, (f64, f64)) {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let workload = Workload::delayed(server.addr(), 10, 20);
    block_on(async {
        let tasks: Vec<_> = (0..workload.len())
            .map(|id| {
                let target = workload.targets[id].clone();
                spawn(fetch(
                    target,
                    workload.record(id),
                    workload.response_check(),
                ))
            })
            .collect();
        let busy = spawn(compute(
            workload.clock,
            Duration::from_millis(400),
            yield_every,
        ));
        (join_all(tasks).await, busy.await)
    })
}

/// Computing without awaiting stalls every connection until the computation ends, like
/// `std::thread::sleep`. Yielding every millisecond lets them finish while it still runs (at
/// the next turn of the reactor, up to 128 polls later).
#[test]
fn a_computation_starves_the_loop_unless_it_yields() {
    let (results, (started, ended)) = beside_a_computation(None);
    for r in &results {
        assert!(r.ok && r.done_ms >= ended, "{r:?} vs {started}..{ended}");
    }
    let (results, (started, ended)) = beside_a_computation(Some(Duration::from_millis(1)));
    for r in &results {
        assert!(r.ok && r.done_ms < ended, "{r:?} vs {started}..{ended}");
    }
}
// ANCHOR_END: starve

// ANCHOR: fair_mutex
/// A holder keeps the lock for 50 ms; three tasks queue for it in order, and the second gives
/// up after 20 ms. The first and the third get the lock, in that order; the one that gave up
/// left the queue, so the third is not stuck behind it.
#[test]
fn a_waiter_that_gives_up_leaves_the_mutex_queue() {
    let (log, second) = block_on(async {
        let everything = async {
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let holder = {
                let mutex = Rc::clone(&mutex);
                spawn(async move {
                    let mut log = mutex.lock().await;
                    log.push("holder");
                    sleep(Duration::from_millis(50)).await; // held across an await
                })
            };
            let waiter = |name: &'static str, patience: Option<Duration>| {
                let mutex = Rc::clone(&mutex);
                spawn(async move {
                    match patience {
                        None => {
                            mutex.lock().await.push(name);
                            Ok(())
                        }
                        Some(patience) => timeout(patience, mutex.lock())
                            .await
                            .map(|mut log| log.push(name)),
                    }
                })
            };
            // Spawned in this order, so they ask for the lock in this order.
            let first = waiter("first", None);
            let second = waiter("second", Some(Duration::from_millis(20)));
            let third = waiter("third", None);
            holder.await;
            let (first, second, third) = (first.await, second.await, third.await);
            assert!(first.is_ok() && third.is_ok());
            let log = mutex.lock().await.clone();
            (log, second)
        };
        timeout(Duration::from_secs(10), everything)
            .await
            .expect("a task is stuck in the queue")
    });
    assert_eq!(log, ["holder", "first", "third"]);
    assert!(second.is_err(), "the second waiter gave up");
}
// ANCHOR_END: fair_mutex

// ANCHOR: cancellation
/// The longest message accepted: a length past it is not a length, but bytes from elsewhere.
const MAX_MESSAGE: usize = 1 << 20;

/// Fills `buf` from `stream`, reading until it is full (there is no `read_exact`).
async fn read_full(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
}

/// The length of a message, from its 4-byte big-endian prefix.
fn length(prefix: [u8; 4]) -> io::Result<usize> {
    match u32::from_be_bytes(prefix) as usize {
        len if len <= MAX_MESSAGE => Ok(len),
        len => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a length of {len} bytes"),
        )),
    }
}

/// Reads one message: the length, then the body. Not cancellation safe: the length lives in
/// this future's state, and is lost with it if the future is dropped during the body.
async fn read_message(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut prefix = [0u8; 4];
    read_full(stream, &mut prefix).await?;
    let mut body = vec![0u8; length(prefix)?];
    read_full(stream, &mut body).await?;
    Ok(body)
}

/// Reads messages, keeping every byte read so far in itself, not in a future: a read that is
/// dropped loses nothing, and the next one goes on from where it stopped.
struct MessageReader {
    stream: TcpStream,
    /// Bytes read and not yet handed out as a message.
    buffer: Vec<u8>,
}

impl MessageReader {
    /// Reads one message. Cancellation safe: its only `.await` is a read, which takes bytes
    /// only when it is ready, and they go into `self.buffer` before anything else can happen.
    async fn read_message(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(prefix) = self.buffer.first_chunk::<4>() {
                let len = length(*prefix)?;
                if self.buffer.len() >= 4 + len {
                    let message = self.buffer[4..4 + len].to_vec();
                    self.buffer.drain(..4 + len);
                    return Ok(message);
                }
            }
            let mut chunk = [0u8; 1024];
            match self.stream.read(&mut chunk).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// A server of one message: it writes the length at once, and the body only once `go` is set.
/// (Call it inside `block_on`: the listener registers with the current reactor.)
fn serve_one_message(
    go: Rc<Event>,
    body: &'static [u8],
) -> io::Result<(SocketAddr, impl Future<Output = ()>)> {
    let mut listener = TcpListener::bind(([127, 0, 0, 1], 0).into())?;
    let addr = listener.local_addr()?;
    let serve = async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let prefix = (body.len() as u32).to_be_bytes();
        stream.write_all(&prefix).await.expect("write the length");
        go.wait().await;
        stream.write_all(body).await.expect("write the body");
    };
    Ok((addr, serve))
}

const BODY: &[u8] = b"hello, world";

/// The timeout fires between the length and the body. `read_message` took the length with it:
/// the retry reads the body's first four bytes ("hell") as a length. `MessageReader` kept the
/// length in itself: the retry gets the whole message.
#[test]
fn a_cancelled_read_loses_what_it_had_read() {
    let (naive, kept) = block_on(timeout(Duration::from_secs(10), async {
        let go = Rc::new(Event::new());
        let (addr, serve) = serve_one_message(Rc::clone(&go), BODY).unwrap();
        let server = spawn(serve);
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let patience = Duration::from_millis(100);
        assert!(timeout(patience, read_message(&mut stream)).await.is_err());
        go.set();
        let naive = read_message(&mut stream).await;
        server.await;

        let go = Rc::new(Event::new());
        let (addr, serve) = serve_one_message(Rc::clone(&go), BODY).unwrap();
        let server = spawn(serve);
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut reader = MessageReader {
            stream,
            buffer: Vec::new(),
        };
        assert!(timeout(patience, reader.read_message()).await.is_err());
        go.set();
        let kept = reader.read_message().await;
        server.await;
        (naive, kept)
    }))
    .expect("nothing hangs");
    let error = naive.expect_err("the length was lost");
    assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
    assert_eq!(kept.unwrap(), BODY);
}
// ANCHOR_END: cancellation
