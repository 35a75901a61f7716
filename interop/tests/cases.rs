//! Which I/O works on which executor: each case of `interop` gives the verdict the chapter
//! describes, and the portable stream works everywhere, in both directions, at scale, and with
//! its errors intact.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use interop::Verdict;
use interop::net::{self, Driver};
use interop::{background, net::TcpStream};
use testbed::{ResponseCheck, Workload};

/// Runs `f` on a thread and waits at most a minute for it: a lost wake-up fails the test
/// instead of hanging it. (A guard against hangs, not a timing check: every case takes
/// milliseconds.)
fn unless_it_hangs<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    testbed::faults::within(Duration::from_secs(60), "the test (a wake-up was lost?)", f)
}

/// Runs the case whose I/O and executor contain these words.
fn verdict(io: &'static str, executor: &'static str) -> Verdict {
    unless_it_hangs(move || {
        let (_server, workload) = Workload::zero_delay(1).unwrap();
        let case = interop::cases()
            .into_iter()
            .find(|c| c.io.contains(io) && c.executor.contains(executor))
            .unwrap_or_else(|| panic!("no case {io} on {executor}"));
        (case.run)(&workload.targets[0])
    })
}

/// Step 5's sockets need step 5's reactor on the thread: under tokio or futures' block_on,
/// the first poll panics with our message.
#[test]
fn step05_io_panics_on_foreign_executors() {
    for executor in ["tokio (current thread)", "futures::executor::block_on"] {
        match verdict("step 5 (ours)", executor) {
            Verdict::Panicked(message) => assert!(message.contains("no reactor on this thread")),
            other => panic!("{executor}: {other}"),
        }
    }
}

/// With the reactor installed but never turned, the connect stays pending after the pool has
/// stalled; one turn by hand finishes it.
#[test]
fn a_reactor_nobody_turns_never_wakes_its_futures() {
    match verdict("reactor installed", "LocalPool") {
        Verdict::NeverWoke(how) => assert!(how.ends_with(": connected"), "{how}"),
        other => panic!("{other}"),
    }
}

/// tokio's sockets outside tokio's context: tokio's own panic.
#[test]
fn tokio_io_panics_on_our_executor() {
    match verdict("tokio", "ours") {
        Verdict::Panicked(message) => assert!(message.contains("no reactor running"), "{message}"),
        other => panic!("{other}"),
    }
}

/// A current-thread runtime entered but not running: its reactor never turns, so tokio's
/// connect never completes; our timeout ends it.
#[test]
fn tokio_io_never_wakes_when_its_current_thread_runtime_does_not_run() {
    assert!(matches!(
        verdict("current-thread runtime entered", "ours"),
        Verdict::NeverWoke(_)
    ));
}

/// A multi-thread runtime turns its reactor on its own threads: tokio's I/O works on ours.
#[test]
fn tokio_io_works_on_ours_inside_a_multi_thread_runtime() {
    match verdict("multi-thread runtime entered", "ours") {
        Verdict::Worked(how) => assert!(how.contains("tokio's reactor"), "{how}"),
        other => panic!("{other}"),
    }
}

/// The portable stream: our reactor on our executor, the background one elsewhere.
#[test]
fn the_portable_stream_works_on_every_executor() {
    for (executor, driver) in [
        ("ours", Driver::Ours),
        ("futures::executor::block_on", Driver::Background),
        ("tokio (current thread)", Driver::Background),
    ] {
        match verdict("portable", executor) {
            Verdict::Worked(how) => assert!(how.contains(&driver.to_string()), "{executor}: {how}"),
            other => panic!("{executor}: {other}"),
        }
    }
    assert!(matches!(
        verdict("background::TcpStream", "tokio::spawn"),
        Verdict::Worked(_)
    ));
}

/// The figure's "who turns it" column says what each verdict shows: no reactor on the
/// thread where the run panicked, a reactor nobody turns where it never woke, and who turns
/// it where it worked; and the drawing has one badge per case, in the verdict's words.
#[test]
fn the_figure_says_what_each_run_shows() {
    let runs: Vec<_> = unless_it_hangs(|| {
        let (_server, workload) = Workload::zero_delay(1).unwrap();
        let target = &workload.targets[0];
        interop::cases()
            .into_iter()
            .map(|case| {
                let verdict = (case.run)(target);
                (case, verdict)
            })
            .collect()
    });
    for (case, verdict) in &runs {
        let claim = case.reactor;
        let agrees = match verdict {
            Verdict::Panicked(_) => claim.ends_with("none on this thread"),
            Verdict::NeverWoke(_) => {
                claim.contains("nobody turns") || claim.contains("only its own block_on")
            }
            Verdict::Worked(_) => claim.contains(": turned by"),
        };
        assert!(
            agrees,
            "{} on {}: {claim:?} beside {verdict}",
            case.io, case.executor
        );
    }
    let drawn = interop::figure::svg(&runs, "title", &["caption"]);
    let words = |word: &str| drawn.matches(&format!(">{word}</text>")).count();
    let count = |f: fn(&Verdict) -> bool| runs.iter().filter(|(_, v)| f(v)).count();
    assert_eq!(words("works"), count(|v| matches!(v, Verdict::Worked(_))));
    assert_eq!(
        words("panics"),
        count(|v| matches!(v, Verdict::Panicked(_)))
    );
    assert_eq!(
        words("never wakes"),
        count(|v| matches!(v, Verdict::NeverWoke(_)))
    );
}

/// A std echo server on a thread, for one connection.
fn echo_once() -> (SocketAddr, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let thread = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match socket.read(&mut buf).unwrap() {
                0 => break,
                n => socket.write_all(&buf[..n]).unwrap(),
            }
        }
    });
    (addr, thread)
}

/// 4 MiB through an echo server under futures' block_on, writing and reading at once: every
/// byte comes back in order (both directions wait on the background reactor, often together).
#[test]
fn background_stream_carries_megabytes_both_ways() {
    unless_it_hangs(|| {
        let (addr, server) = echo_once();
        let sent: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
        let received = futures::executor::block_on(async {
            let stream = TcpStream::connect(addr).await.unwrap();
            assert_eq!(stream.driver(), Driver::Background);
            let (mut reader, mut writer) = stream.split();
            let write = async {
                writer.write_all(&sent).await.unwrap();
                writer.close().await.unwrap(); // shutdown(Write): the server sees end-of-file
            };
            let mut received = Vec::new();
            let read = reader.read_to_end(&mut received);
            let ((), n) = futures::join!(write, read);
            assert_eq!(n.unwrap(), sent.len());
            received
        });
        assert!(received == sent, "the echo differs from what was sent");
        server.join().unwrap();
    })
}

/// A refused connect is an error of the connect, not a hang.
#[test]
fn background_connect_refused_is_an_error() {
    unless_it_hangs(|| {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        // The listener is dropped: nothing listens on `addr` any more.
        let error = futures::executor::block_on(background::TcpStream::connect(addr)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    })
}

/// 500 requests at once under futures' block_on (one thread, polling only): the background
/// reactor wakes each in turn, and every response checks.
#[test]
fn five_hundred_requests_on_futures_block_on() {
    unless_it_hangs(|| {
        testbed::limits::ensure_open_files(testbed::limits::needed_for(500)).unwrap();
        let (_server, workload) = Workload::zero_delay(500).unwrap();
        let results = futures::executor::block_on(futures::future::join_all(
            workload
                .targets
                .iter()
                .map(|target| net::get(target, ResponseCheck::new(1 << 20))),
        ));
        for result in results {
            let (driver, summary) = result.unwrap();
            assert_eq!(driver, Driver::Background);
            assert!(summary.bytes > 0);
        }
    })
}

/// The portable stream inside our runtime uses our reactor; a timeout from step 6 works on it.
#[test]
fn inside_ours_the_portable_stream_takes_our_reactor() {
    unless_it_hangs(|| {
        let (addr, server) = echo_once();
        step05_futures::block_on(async {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            assert_eq!(stream.driver(), Driver::Ours);
            stream.write_all(b"ping").await.unwrap();
            let mut buf = [0u8; 4];
            let read = step06_async_await::timeout::timeout(Duration::from_secs(10), async {
                stream.read_exact(&mut buf).await
            });
            read.await.expect("echoed in time").unwrap();
            assert_eq!(&buf, b"ping");
        });
        server.join().unwrap();
    })
}

/// A read of the portable stream, dropped unfinished when a `select` chooses a timer, takes
/// its waker back from step 5's reactor: none is left behind while the stream lives on, and
/// the stream still reads what comes later. (Before the fix, `stream.read` was
/// `futures::io`'s, which has no way to, and one waker stayed at the reactor.)
#[test]
fn a_dropped_read_of_the_portable_stream_leaves_no_waker() {
    let (addr, server) = echo_once();
    let (left, echoed) = unless_it_hangs(move || {
        step05_futures::block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            assert_eq!(stream.driver(), Driver::Ours);
            let mut buf = [0u8; 64];
            {
                let read = stream.read(&mut buf);
                let timer = step05_futures::time::sleep(Duration::from_millis(20));
                futures::pin_mut!(read, timer);
                let _ = futures::future::select(read, timer).await; // the timer wins
            }
            let reactor = step05_futures::reactor::Reactor::current();
            let left = reactor.borrow().waiting_wakers();
            stream.write_all(b"ping").await.unwrap();
            let n = stream.read(&mut buf).await.unwrap();
            stream.shutdown_write().unwrap();
            (left, buf[..n].to_vec())
        })
    });
    server.join().unwrap();
    assert_eq!(
        left, 0,
        "a waker stayed at the reactor after its read was dropped"
    );
    assert_eq!(echoed, b"ping");
}
