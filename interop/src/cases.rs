//! Which runtime's I/O works on which executor, tried for real.
//!
//! An I/O future is only half of the story: its readiness comes from a reactor, and the reactor
//! has to be turned by somebody. Each [`Case`] here awaits one kind of I/O future on one
//! executor and reports what happened: it worked (and which reactor drove it), it panicked
//! (the I/O found no reactor of its own kind on the thread), or it never woke (its reactor
//! exists but nobody turns it). `cargo run --release -p interop` prints them
//! all; `tests/interop.rs` checks each.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures::executor::LocalPool;
use futures::task::LocalSpawnExt as _;
use step05_futures::reactor::Reactor;
use testbed::{FetchError, ResponseCheck, Target};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::background;
use crate::net::{self, exchange};
use step06_async_await::timeout::timeout;

/// What happened when a case ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The request was answered; the text says how (which reactor drove it).
    Worked(String),
    /// It panicked, with this message.
    Panicked(String),
    /// It never completed, because nobody turned the reactor it waited on; the text says how
    /// that was seen.
    NeverWoke(String),
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Worked(how) => write!(f, "works: {how}"),
            Verdict::Panicked(message) => write!(f, "panics: {message}"),
            Verdict::NeverWoke(how) => write!(f, "never wakes: {how}"),
        }
    }
}

/// One combination of I/O and executor.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Whose I/O future.
    pub io: &'static str,
    /// Whose executor polls it.
    pub executor: &'static str,
    /// The reactor the I/O waits on, and who turns it (or why nobody does). The figure of the
    /// chapter shows it beside the verdict; `tests/cases.rs` checks that the two agree.
    pub reactor: &'static str,
    /// Runs it against a server at `target` (answering at once) and says what happened.
    pub run: fn(&Target) -> Verdict,
}

/// Every case, in the order the chapter discusses them.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            io: "step 5 (ours)",
            executor: "tokio (current thread)",
            reactor: "step 5's: none on this thread",
            run: step05_io_on_tokio,
        },
        Case {
            io: "step 5 (ours)",
            executor: "futures::executor::block_on",
            reactor: "step 5's: none on this thread",
            run: step05_io_on_futures_block_on,
        },
        Case {
            io: "step 5 (ours), reactor installed",
            executor: "futures' LocalPool",
            reactor: "step 5's: installed, but nobody turns it",
            run: step05_io_with_reactor_nobody_turns,
        },
        Case {
            io: "tokio",
            executor: "ours (step 5's block_on)",
            reactor: "tokio's: none on this thread",
            run: tokio_io_on_ours,
        },
        Case {
            io: "tokio, current-thread runtime entered",
            executor: "ours (step 5's block_on)",
            reactor: "tokio's: entered; only its own block_on turns it",
            run: tokio_io_on_ours_current_thread_entered,
        },
        Case {
            io: "tokio, multi-thread runtime entered",
            executor: "ours (step 5's block_on)",
            reactor: "tokio's: turned by the runtime's worker threads",
            run: tokio_io_on_ours_multi_thread_entered,
        },
        Case {
            io: "step 6's portable TcpStream",
            executor: "ours (step 5's block_on)",
            reactor: "step 5's: turned by our executor, between polls",
            run: portable_on_ours,
        },
        Case {
            io: "step 6's portable TcpStream",
            executor: "futures::executor::block_on",
            reactor: "the background one: turned by its own thread",
            run: portable_on_futures_block_on,
        },
        Case {
            io: "step 6's portable TcpStream",
            executor: "tokio (current thread)",
            reactor: "the background one: turned by its own thread",
            run: portable_on_tokio,
        },
        Case {
            io: "background::TcpStream, spawned",
            executor: "tokio (multi-thread, tokio::spawn)",
            reactor: "the background one: turned by its own thread",
            run: background_on_tokio_spawn,
        },
    ]
}

/// Runs `case` on a thread of its own, so that a panic (and whatever thread-local state the
/// runtime left behind) stays there; a panic becomes [`Verdict::Panicked`].
fn isolated(case: impl FnOnce() -> Verdict + Send) -> Verdict {
    std::thread::scope(|scope| match scope.spawn(case).join() {
        Ok(verdict) => verdict,
        Err(payload) => Verdict::Panicked(
            payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(a panic without a message)".into()),
        ),
    })
}

/// A verdict from a request's result.
fn answered(result: Result<String, FetchError>) -> Verdict {
    match result {
        Ok(how) => Verdict::Worked(how),
        // Not expected against the embedded server; shown as it is if it happens.
        Err(error) => Verdict::Worked(format!("ran, but the request failed: {error}")),
    }
}

/// A one-thread tokio runtime with its I/O driver and timers.
fn tokio_current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build a tokio runtime")
}

/// A response check as the workloads make them (bodies up to 1 MiB).
fn check() -> ResponseCheck {
    ResponseCheck::new(1 << 20)
}

// ANCHOR: foreign_executor
/// Step 5's TcpStream polled by tokio's executor: its first poll looks for step 5's reactor on
/// the thread, finds none, and panics.
fn step05_io_on_tokio(target: &Target) -> Verdict {
    isolated(|| {
        tokio_current_thread().block_on(async {
            let stream = step05_futures::net::TcpStream::connect(target.addr).await;
            answered(
                stream
                    .map(|_| "connected".into())
                    .map_err(|e| FetchError::io(testbed::Stage::Connect, e)),
            )
        })
    })
}

/// The same under the simplest executor there is.
fn step05_io_on_futures_block_on(target: &Target) -> Verdict {
    isolated(|| {
        futures::executor::block_on(async {
            let stream = step05_futures::net::TcpStream::connect(target.addr).await;
            answered(
                stream
                    .map(|_| "connected".into())
                    .map_err(|e| FetchError::io(testbed::Stage::Connect, e)),
            )
        })
    })
}
// ANCHOR_END: foreign_executor

// ANCHOR: nobody_turns
/// Step 5's reactor installed on the thread, so the TcpStream can register; but the executor
/// is futures' `LocalPool`, which knows nothing of it. The pool polls until no task can make
/// progress ("stalled"): the connect is still pending, however long we wait, because its waker
/// sits in a reactor nobody asks the kernel for news. Turning the reactor by hand (what our
/// `block_on` does between polls) finishes it.
fn step05_io_with_reactor_nobody_turns(target: &Target) -> Verdict {
    isolated(|| {
        let reactor = Rc::new(RefCell::new(Reactor::new().expect("create a reactor")));
        let _installed = Reactor::enter(Rc::clone(&reactor));
        let mut pool = LocalPool::new();
        let done = Rc::new(RefCell::new(None));
        let (result, addr) = (Rc::clone(&done), target.addr);
        pool.spawner()
            .spawn_local(async move {
                let stream = step05_futures::net::TcpStream::connect(addr).await;
                *result.borrow_mut() = Some(stream.map(drop));
            })
            .expect("spawn on the pool");
        pool.run_until_stalled();
        std::thread::sleep(Duration::from_millis(50)); // the handshake is long over by now
        pool.run_until_stalled();
        if done.borrow().is_some() {
            return Verdict::Worked("connected without the reactor turning (unexpected)".into());
        }
        let mut turns = 0;
        while done.borrow().is_none() && turns < 100 {
            let wakers = reactor.borrow_mut().turn(Some(Duration::from_millis(100)));
            for waker in wakers.expect("epoll_wait") {
                waker.wake();
            }
            turns += 1;
            pool.run_until_stalled();
        }
        let outcome = match done.borrow_mut().take() {
            Some(Ok(())) => "connected",
            Some(Err(_)) => "failed to connect",
            None => "still pending",
        };
        Verdict::NeverWoke(format!(
            "pending after the pool stalled; {turns} turn(s) of the reactor by hand: {outcome}"
        ))
    })
}
// ANCHOR_END: nobody_turns

// ANCHOR: tokio_on_ours
/// tokio's I/O, on our executor.
async fn tokio_get(target: &Target) -> Result<String, FetchError> {
    let io = |stage| move |e| FetchError::io(stage, e);
    let mut stream = tokio::net::TcpStream::connect(target.addr)
        .await
        .map_err(io(testbed::Stage::Connect))?;
    stream
        .write_all(&target.request())
        .await
        .map_err(io(testbed::Stage::Write))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(io(testbed::Stage::Read))?;
    let mut check = check();
    check.feed(&response)?;
    let summary = check.finish()?;
    Ok(format!(
        "{} bytes, read with tokio's reactor",
        summary.bytes
    ))
}

/// tokio's TcpStream looks for tokio's context on the thread when it is created: none.
fn tokio_io_on_ours(target: &Target) -> Verdict {
    isolated(|| answered(step05_futures::block_on(tokio_get(target))))
}

/// With a current-thread runtime entered, tokio's TcpStream finds a reactor and registers; but
/// that reactor turns only inside its own `block_on`, which nobody calls. Our timeout (on our
/// reactor, which our executor does turn) ends the wait.
fn tokio_io_on_ours_current_thread_entered(target: &Target) -> Verdict {
    isolated(|| {
        let runtime = tokio_current_thread();
        let _entered = runtime.enter();
        let wait = Duration::from_millis(500);
        match step05_futures::block_on(timeout(wait, tokio_get(target))) {
            Ok(result) => answered(result),
            Err(_elapsed) => Verdict::NeverWoke(format!(
                "our timeout of {} ms ended the wait; tokio's reactor never turned",
                wait.as_millis()
            )),
        }
    })
}

/// A multi-thread runtime's reactor is turned by its worker threads, whoever polls the
/// futures: entering it is enough, and its wakers wake our tasks from those threads.
fn tokio_io_on_ours_multi_thread_entered(target: &Target) -> Verdict {
    isolated(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("build a tokio runtime");
        let _entered = runtime.enter();
        answered(step05_futures::block_on(tokio_get(target)))
    })
}
// ANCHOR_END: tokio_on_ours

// ANCHOR: portable
/// The portable stream on each executor: it picks its reactor at connect.
fn portable_on_ours(target: &Target) -> Verdict {
    isolated(|| answered(step05_futures::block_on(portable_get(target))))
}

/// ... under `futures::executor::block_on`.
fn portable_on_futures_block_on(target: &Target) -> Verdict {
    isolated(|| answered(futures::executor::block_on(portable_get(target))))
}

/// ... under tokio.
fn portable_on_tokio(target: &Target) -> Verdict {
    isolated(|| answered(tokio_current_thread().block_on(portable_get(target))))
}

/// `net::get`, described.
async fn portable_get(target: &Target) -> Result<String, FetchError> {
    let (driver, summary) = net::get(target, check()).await?;
    Ok(format!("{} bytes, driven by {driver}", summary.bytes))
}

/// `background::TcpStream` is `Send`: a task of a multi-thread runtime may hold it across
/// `.await` and move between worker threads.
fn background_on_tokio_spawn(target: &Target) -> Verdict {
    isolated(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("build a tokio runtime");
        let target = target.clone();
        let task = runtime.spawn(async move {
            let connect = background::TcpStream::connect(target.addr).await;
            let mut stream = connect.map_err(|e| FetchError::io(testbed::Stage::Connect, e))?;
            let summary = exchange(&mut stream, &target, check()).await?;
            Ok(format!(
                "{} bytes, in a tokio::spawn'ed task",
                summary.bytes
            ))
        });
        answered(runtime.block_on(task).expect("the task did not panic"))
    })
}
// ANCHOR_END: portable
