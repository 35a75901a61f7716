//! The fan-out and the echo server with `async`/`.await`, on step 5's runtime.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use step05_futures::net::{TcpListener, TcpStream};
use step05_futures::time::sleep;
use step05_futures::{block_on, spawn};
use testbed::{
    ConnectionRecord, ConnectionResult, FetchError, ResponseCheck, RunClock, Stage, Target,
    Workload,
};

use crate::blocking::spawn_blocking;
use crate::sync::Semaphore;
use crate::timeout::timeout;
use crate::yield_now::yield_now;
use crate::{Blocking, FanOut, Options};

// ANCHOR: exchange
/// One connection: connect, send the request, read until the server closes, check the response.
/// The same steps, in the same order, as step 1's blocking `exchange`; each `.await` is where
/// step 1 blocked, and where this task lets the others run.
async fn exchange(
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
    let mut buf = [0u8; 8 * 1024];
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| FetchError::io(Stage::Read, e))?;
        if n == 0 {
            break; // end-of-file: the server closed, the response is complete
        }
        record.received(n);
        check.feed(&buf[..n])?;
    }
    Ok(())
}
// ANCHOR_END: exchange

// ANCHOR: fetch
/// One connection with its deadline: `exchange`, cancelled (dropped) if it runs out of time.
pub async fn fetch(
    target: Target,
    mut record: ConnectionRecord,
    mut check: ResponseCheck,
) -> ConnectionResult {
    let left = record.deadline().saturating_duration_since(Instant::now());
    let outcome = match timeout(left, exchange(&target, &mut record, &mut check)).await {
        Ok(Ok(())) => check.finish().map(drop).map_err(FetchError::from),
        Ok(Err(error)) => Err(error),
        Err(_elapsed) => Err(record.timed_out(record.stage_reached())),
    };
    record.finish(outcome)
}
// ANCHOR_END: fetch

/// Sizes for the chapter's table: the future of `exchange`, and `timeout` around it written as
/// a struct (ours) and as an `async fn` (`timeout_as_async_fn`).
pub fn sizes(workload: &Workload) -> (usize, usize, usize) {
    let target = &workload.targets[0];
    let (mut record, mut check) = (workload.record(0), workload.response_check());
    let exchange_size = std::mem::size_of_val(&exchange(target, &mut record, &mut check));
    let (mut record, mut check) = (workload.record(0), workload.response_check());
    let as_struct = std::mem::size_of_val(&timeout(
        Duration::from_secs(1),
        exchange(target, &mut record, &mut check),
    ));
    let (mut record, mut check) = (workload.record(0), workload.response_check());
    let as_async_fn = std::mem::size_of_val(&crate::timeout::timeout_as_async_fn(
        Duration::from_secs(1),
        exchange(target, &mut record, &mut check),
    ));
    (exchange_size, as_struct, as_async_fn)
}

// ANCHOR: run
/// Every connection as a task of its own, at most `limit` at a time; plus, if asked, a task
/// that blocks.
async fn run(workload: &Workload, options: Options) -> FanOut {
    let limit = options
        .limit
        .map(|permits| Rc::new(Semaphore::new(permits)));
    let (clock, timeout) = (workload.clock, workload.timeout);
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
                fetch(target, ConnectionRecord::start(clock, id, timeout), check).await
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

/// Runs the fan-out on our runtime.
pub fn fan_out(workload: &Workload, options: Options) -> FanOut {
    block_on(run(workload, options))
}

// ANCHOR: echo
/// Echoes one connection until the peer is done.
async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    for round in 1.. {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
        // A client that keeps this socket busy would keep every other connection waiting:
        // now and then, let the others run.
        if round % 32 == 0 {
            yield_now().await;
        }
    }
}

/// Accepts connections forever, one task each.
async fn serve(mut listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                spawn(echo(stream));
            }
            // Out of descriptors, most likely: the connection waits in the backlog; try again.
            Err(_) => sleep(Duration::from_millis(10)).await,
        }
    }
}
// ANCHOR_END: echo

/// The echo server on our runtime: binds `addr`, tells `announce` where, serves forever.
pub fn echo_server(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    block_on(async move {
        let listener = TcpListener::bind(addr)?;
        announce(listener.local_addr()?)?;
        serve(listener).await;
        Ok(())
    })
}
