//! The same fan-out and echo server on tokio (one thread): the production reference. Read it
//! beside `ours.rs`: the code is the same but for the imports, and for the `Send` bounds tokio's
//! `spawn` asks of every task.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use testbed::{
    ConnectionRecord, ConnectionResult, FetchError, ResponseCheck, RunClock, Stage, Target,
    Workload,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{sleep, timeout};

use crate::{Blocking, FanOut, Options};

// ANCHOR: exchange
/// One connection (compare with `ours::exchange`).
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
            break;
        }
        record.received(n);
        check.feed(&buf[..n])?;
    }
    Ok(())
}
// ANCHOR_END: exchange

/// One connection with its deadline.
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

// ANCHOR: run
/// Every connection as a task, at most `limit` at a time; plus, if asked, a task that blocks.
async fn run(workload: &Workload, options: Options) -> FanOut {
    // tokio's tasks may move between threads, so what they share is an `Arc`, not an `Rc`.
    let limit = options
        .limit
        .map(|permits| Arc::new(Semaphore::new(permits)));
    let (clock, deadline) = (workload.clock, workload.timeout);
    let tasks: Vec<_> = workload
        .targets
        .iter()
        .enumerate()
        .map(|(id, target)| {
            let (target, check, limit) = (target.clone(), workload.response_check(), limit.clone());
            tokio::spawn(async move {
                let _permit = match &limit {
                    Some(semaphore) => Some(
                        semaphore
                            .acquire()
                            .await
                            .expect("the semaphore is never closed"),
                    ),
                    None => None,
                };
                fetch(target, ConnectionRecord::start(clock, id, deadline), check).await
            })
        })
        .collect();
    let blocked = options
        .block
        .map(|blocking| tokio::spawn(misbehave(clock, blocking)));
    let results = join_all(tasks)
        .await
        .into_iter()
        .map(|joined| joined.expect("a connection task panicked"))
        .collect();
    let blocked = match blocked {
        Some(task) => Some(task.await.expect("the blocking task panicked")),
        None => None,
    };
    FanOut { results, blocked }
}
// ANCHOR_END: run

/// The task that blocks, or does its blocking on tokio's pool.
async fn misbehave(clock: RunClock, blocking: Blocking) -> (f64, f64) {
    sleep(Duration::from_millis(10)).await;
    let started = clock.elapsed_ms();
    let duration = blocking.duration;
    if blocking.on_pool {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(duration)).await;
    } else {
        std::thread::sleep(duration);
    }
    (started, clock.elapsed_ms())
}

/// A single-threaded tokio runtime, like ours.
fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Runs the fan-out on tokio.
pub fn fan_out(workload: &Workload, options: Options) -> FanOut {
    match runtime() {
        Ok(runtime) => runtime.block_on(run(workload, options)),
        Err(e) => FanOut {
            results: workload.all_failed(&FetchError::Setup(format!("cannot start tokio: {e}"))),
            blocked: None,
        },
    }
}

/// Echoes one connection until the peer is done.
async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The echo server on tokio: binds `addr`, tells `announce` where, serves forever.
pub fn echo_server(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    runtime()?.block_on(async move {
        let listener = TcpListener::from_std(testbed::server::listen(addr, 8192)?)?;
        announce(listener.local_addr()?)?;
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    tokio::spawn(echo(stream));
                }
                Err(_) => sleep(Duration::from_millis(10)).await,
            }
        }
    })
}
