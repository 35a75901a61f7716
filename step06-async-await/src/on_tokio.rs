//! The same connection, fan-out and echo server on tokio (one thread): the production
//! reference, written to mirror `fetch.rs`, `fan_out.rs` and `echo.rs` item for item, with the
//! same names, order and local names. What differs is what tokio forces, and nothing else (the
//! test `same_as_tokio.rs` holds the two to that):
//!
//! - the imports: tokio's `TcpStream`, `TcpListener`, `Semaphore`, `sleep`, `timeout`, `spawn`;
//! - `Arc` for `Rc`: tokio's `spawn` asks every task to be `Send`, in case it moves to another
//!   thread, so what tasks share must be shareable between threads;
//! - `.expect(..)` where tokio returns a `Result` ours does not: a `JoinError` (a task that
//!   panicked, or was cancelled), a `Semaphore` that was closed;
//! - a `runtime()` to build, where ours is the step 5 `block_on`;
//! - binding the listener through `testbed::server::listen`, for the same deep backlog ours
//!   has (tokio's `bind` asks the kernel for 1,024);
//! - no `yield_now` in `echo`: tokio gives each task a budget of operations, after which its
//!   sockets answer `Pending` once, so a busy connection yields by itself.

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
use tokio::spawn;
use tokio::sync::Semaphore;
use tokio::time::{sleep, timeout};

use crate::fan_out::{Blocking, FanOut, Options};
use crate::group::Ended;

// ANCHOR: exchange
/// One connection: connect, send the request, read until the server closes, check the response.
/// The same steps, in the same order, as step 1's blocking `exchange`; each `.await` is where
/// step 1 blocked, and where this task lets the others run.
pub async fn exchange(
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

// ANCHOR: run
/// Every connection as a task of its own, at most `limit` at a time; plus, if asked, a task
/// that blocks.
async fn run(workload: &Workload, options: Options) -> FanOut {
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
            spawn(async move {
                // Wait for a permit, if connections are limited; the connection starts after.
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
        .map(|blocking| spawn(misbehave(clock, blocking)));
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
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(duration)).await;
    } else {
        // The mistake: the loop's own thread sleeps, and nothing else can run meanwhile.
        std::thread::sleep(duration);
    }
    (started, clock.elapsed_ms())
}
// ANCHOR_END: misbehave

/// A single-threaded tokio runtime, like ours.
fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Runs the fan-out on tokio.
pub fn fan_out(workload: &Workload, options: Options) -> FanOut {
    match runtime() {
        Ok(runtime) => fan_out_on(&runtime, workload, options),
        Err(e) => FanOut {
            results: workload.all_failed(&FetchError::Setup(format!("cannot start tokio: {e}"))),
            blocked: None,
        },
    }
}

/// Runs the fan-out on `runtime`, any tokio runtime (step 9 gives a multi-threaded one).
pub fn fan_out_on(
    runtime: &tokio::runtime::Runtime,
    workload: &Workload,
    options: Options,
) -> FanOut {
    runtime.block_on(run(workload, options))
}

// ANCHOR: echo
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
        // No `yield_now` here: tokio's budget makes a busy connection yield by itself.
    }
}

/// Accepts connections forever, one task each.
async fn serve(listener: TcpListener) {
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

// ANCHOR: serve_until
/// Accepts connections until `stop` is ready, one task each, in a `JoinSet` (tokio's task
/// group: dropping it aborts its tasks); then stops accepting, tells `stopped` how many are in
/// flight, gives them `grace` to finish, and aborts the rest.
async fn serve_until(
    listener: TcpListener,
    stop: impl std::future::Future<Output = ()>,
    grace: Duration,
    stopped: impl FnOnce(usize),
) -> Ended {
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            // The stop first (`select!` would otherwise pick a branch at random).
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(echo(stream));
                }
                Err(_) => sleep(Duration::from_millis(10)).await,
            },
        }
        // Finished connections leave the set as they go, so it holds only the live ones.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    while connections.try_join_next().is_some() {}
    stopped(connections.len());
    let mut finished = 0;
    let _ = timeout(grace, async {
        while connections.join_next().await.is_some() {
            finished += 1;
        }
    })
    .await;
    // A task that ended in the deadline's own tick is finished, not cut.
    while connections.try_join_next().is_some() {
        finished += 1;
    }
    let cut = connections.len();
    connections.abort_all();
    Ended { finished, cut }
}
// ANCHOR_END: serve_until

/// The echo server on tokio, until SIGINT or SIGTERM (tokio's `signal`, the same self-pipe as
/// ours): see [`crate::echo::echo_server_until_signal`].
pub fn echo_server_until_signal(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
    grace: Duration,
    stopped: impl FnOnce(usize),
) -> io::Result<Ended> {
    echo_server_until_signal_on(&runtime()?, addr, announce, grace, stopped)
}

/// [`echo_server_until_signal`] on `runtime`, any tokio runtime.
pub fn echo_server_until_signal_on(
    runtime: &tokio::runtime::Runtime,
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
    grace: Duration,
    stopped: impl FnOnce(usize),
) -> io::Result<Ended> {
    runtime.block_on(async move {
        let stop = interrupted()?;
        let listener = TcpListener::from_std(testbed::server::listen(addr, 8192)?)?;
        announce(listener.local_addr()?)?;
        Ok(serve_until(listener, stop, grace, stopped).await)
    })
}

/// SIGINT or SIGTERM, caught from now on (tokio's `signal`, the same self-pipe as ours): a
/// future that is ready when either comes. Call it inside the runtime.
pub fn interrupted() -> io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// The echo server on tokio: binds `addr`, tells `announce` where, serves forever.
pub fn echo_server(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    echo_server_on(&runtime()?, addr, announce)
}

/// The echo server on `runtime`, any tokio runtime.
pub fn echo_server_on(
    runtime: &tokio::runtime::Runtime,
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
) -> io::Result<()> {
    runtime.block_on(async move {
        let listener = TcpListener::from_std(testbed::server::listen(addr, 8192)?)?;
        announce(listener.local_addr()?)?;
        serve(listener).await;
        Ok(())
    })
}
