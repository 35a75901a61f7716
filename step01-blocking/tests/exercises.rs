//! The worked solutions of chapter 1's exercises ("Step 1: Blocking"), as tests against the
//! delay server: the deadline at work, the threads of a running client counted in `/proc`, a
//! small stack and what overflows it, and a pool of K threads instead of one per connection.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use step01_blocking::{fetch, sequential, threads};
use testbed::{
    ConnectionRecord, ConnectionResult, FetchError, ServerHandle, Stage, Target, Workload,
};

/// The server delay of these tests.
const DELAY_MS: u64 = 20;

/// `n` connections to `path` on `server`, each with a deadline of `timeout`.
fn workload(server: &ServerHandle, path: &str, n: usize, timeout: Duration) -> Workload {
    Workload::uniform(Target::new(server.addr(), path), n, timeout)
}

// ANCHOR: deadline
/// Exercise 1: against a server that never answers, each connection fails at its own deadline.
/// Sequentially the deadlines come one after another (the run lasts n timeouts); with a thread
/// each they run out side by side.
#[test]
fn hanging_server_costs_one_timeout_per_connection_in_turn() {
    let server = ServerHandle::start_default().unwrap();
    let (n, timeout_ms) = (3, 200.0);
    let timeout = Duration::from_millis(200);
    let failed_at_deadline = |r: &ConnectionResult| {
        let reason = r.error.as_deref().unwrap_or_default();
        !r.ok
            && reason == "timed out after 200 ms while reading the response"
            && r.done_ms - r.start_ms >= timeout_ms - 1.0
    };

    // Sequential: each waits out its whole deadline before the next one starts.
    let results = sequential(&workload(&server, "/chaos/hang", n, timeout));
    assert!(results.iter().all(failed_at_deadline), "{results:?}");
    for pair in results.windows(2) {
        assert!(pair[1].start_ms >= pair[0].done_ms, "{results:?}");
    }
    let last_done = results[n - 1].done_ms;
    assert!(last_done >= n as f64 * (timeout_ms - 1.0), "{results:?}");

    // Threads: all three wait at once, so all three have started before the first gives up.
    let results = threads(
        &workload(&server, "/chaos/hang", n, timeout),
        step01_blocking::STACK_SIZE,
    );
    assert!(results.iter().all(failed_at_deadline), "{results:?}");
    testbed::faults::assert_all_started_before_any_finished(&results);
}
// ANCHOR_END: deadline

// ANCHOR: count_threads
/// The names of the threads of process `pid`, from `/proc/PID/task/*/comm`.
fn thread_names(pid: u32) -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .map(|name| name.trim_end().to_string())
        .collect()
}

/// Exercise 2: while the threaded client waits on a slow server, it has one thread per
/// connection plus its main thread; its embedded server (a child process) has two.
#[test]
fn a_waiting_client_has_one_thread_per_connection_plus_main() {
    let n = 200;
    let mut client = Command::new(env!("CARGO_BIN_EXE_step01-blocking"))
        .args(["--variant", "threads", "--connections", &n.to_string()])
        .args(["--delay-ms", "10000", "--timeout-ms", "20000"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start step01-blocking");
    let pid = client.id();
    // Look every 10 ms, for at most 10 s (the server's delay), until all threads are there.
    let mut names = Vec::new();
    for _ in 0..1000 {
        names = thread_names(pid);
        let waiting = names
            .iter()
            .filter(|name| name.starts_with("conn-"))
            .count();
        if waiting == n && names.len() == n + 1 {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    // The embedded server: the one child of the client's main thread.
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"));
    let server_threads = children
        .ok()
        .and_then(|list| list.split_whitespace().next()?.parse::<u32>().ok())
        .map(thread_names);
    // Killing the client closes the server's stdin, which makes the server exit too.
    client.kill().expect("kill the client");
    client.wait().expect("reap the client");

    let others: Vec<&String> = names.iter().filter(|n| !n.starts_with("conn-")).collect();
    assert_eq!(names.len(), n + 1, "{others:?}");
    // The one more: the main thread, named after the program, waiting in the scope's joins.
    assert_eq!(others, ["step01-blocking"]);
    // The server: tokio's single thread, and the one that waits for its stdin to close.
    assert_eq!(server_threads.map(|names| names.len()), Some(2));
}
// ANCHOR_END: count_threads

// ANCHOR: small_stack
/// Exercise 3: 16 KiB stacks are enough for `fetch`, whose largest local is its 8 KiB buffer.
#[test]
fn sixteen_kib_stacks_are_enough() {
    let server = ServerHandle::start_default().unwrap();
    let path = format!("/delay/{DELAY_MS}");
    let results = threads(
        &workload(&server, &path, 20, Duration::from_secs(10)),
        16 * 1024,
    );
    testbed::faults::assert_all_ok(&results, 20, DELAY_MS);
}

/// `fetch` with a read buffer of `N` bytes on the stack (the rest as in `src/fetch.rs`).
fn fetch_with_buffer<const N: usize>(workload: &Workload, id: usize) -> ConnectionResult {
    let mut record = workload.record(id);
    let outcome = exchange_with_buffer::<N>(workload, id, &mut record);
    record.finish(outcome)
}

/// Connect, send, read to end-of-file into a `[u8; N]` on the stack, check.
fn exchange_with_buffer<const N: usize>(
    workload: &Workload,
    id: usize,
    record: &mut ConnectionRecord,
) -> Result<(), FetchError> {
    let target = &workload.targets[id];
    let timeout = record.time_left(Stage::Connect)?;
    let mut stream = TcpStream::connect_timeout(&target.addr, timeout)
        .map_err(|e| FetchError::io(Stage::Connect, e))?;
    record.connected();
    stream
        .write_all(&target.request())
        .map_err(|e| FetchError::io(Stage::Write, e))?;
    record.written();
    let mut check = workload.response_check();
    let mut buf = [0u8; N];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                record.received(n);
                check.feed(&buf[..n])?;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(FetchError::io(Stage::Read, e)),
        }
    }
    check.finish()?;
    Ok(())
}

/// The variable that tells this test binary, re-run as a child, to be the probe.
const PROBE_BUFFER_KIB: &str = "STEP01_PROBE_BUFFER_KIB";

/// The probe, run in a child process by the next test: one connection on a thread with a
/// 16 KiB stack, reading into a buffer of `$STEP01_PROBE_BUFFER_KIB` KiB.
#[test]
#[ignore = "run in a child process by `a_64_kib_buffer_overflows_a_16_kib_stack`"]
fn stack_probe() {
    let Ok(kib) = std::env::var(PROBE_BUFFER_KIB) else {
        return;
    };
    let server = ServerHandle::start_default().unwrap();
    let path = format!("/delay/{DELAY_MS}");
    let workload = workload(&server, &path, 1, Duration::from_secs(10));
    let on_16_kib_stack = |fetch: fn(&Workload, usize) -> ConnectionResult| {
        thread::scope(|scope| {
            thread::Builder::new()
                .name("probe".into())
                .stack_size(16 * 1024)
                .spawn_scoped(scope, || fetch(&workload, 0))
                .expect("spawn the probe thread")
                .join()
                .expect("the probe thread returns")
        })
    };
    let result = match kib.as_str() {
        "8" => on_16_kib_stack(fetch_with_buffer::<{ 8 * 1024 }>),
        "64" => on_16_kib_stack(fetch_with_buffer::<{ 64 * 1024 }>),
        other => panic!("no probe for a {other} KiB buffer"),
    };
    testbed::faults::assert_all_ok(&[result], 1, DELAY_MS);
}

/// Exercise 3: with an 8 KiB buffer the probe succeeds; with a 64 KiB buffer on a 16 KiB stack,
/// the thread runs into its guard page, and the whole process dies of it, not one connection.
#[test]
fn a_64_kib_buffer_overflows_a_16_kib_stack() {
    let probe = |kib: &str| {
        Command::new(std::env::current_exe().unwrap())
            .args(["stack_probe", "--exact", "--ignored", "--nocapture"])
            .env(PROBE_BUFFER_KIB, kib)
            .output()
            .expect("re-run this test binary as the probe")
    };
    let fits = probe("8");
    assert!(
        fits.status.success(),
        "{}",
        String::from_utf8_lossy(&fits.stderr)
    );

    let overflows = probe("64");
    let stderr = String::from_utf8_lossy(&overflows.stderr);
    assert!(
        stderr.contains("thread 'probe'") && stderr.contains("has overflowed its stack"),
        "{stderr}"
    );
    // Rust's overflow handler aborts the process: SIGABRT (6), no test report, no clean-up.
    assert_eq!(overflows.status.signal(), Some(6), "{stderr}");
}
// ANCHOR_END: small_stack

// ANCHOR: pool
/// Runs every connection of `workload` on a pool of at most `k` threads. Each thread takes the
/// next connection id from a shared counter until none are left, so at most `k` connections
/// are in progress at a time. A worker that cannot be spawned simply leaves its share to the
/// others; if none can be spawned, every connection fails.
pub fn pool(workload: &Workload, k: usize, stack_size: usize) -> Vec<ConnectionResult> {
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        loop {
            // fetch_add hands out every id exactly once, whichever thread asks.
            let id = next.fetch_add(1, Ordering::Relaxed);
            if id >= workload.len() {
                return done;
            }
            done.push(fetch(workload, id));
        }
    };
    let mut results: Vec<ConnectionResult> = thread::scope(|scope| {
        let workers: Vec<_> = (0..k.clamp(1, workload.len().max(1)))
            .filter_map(|i| {
                thread::Builder::new()
                    .name(format!("pool-{i}"))
                    .stack_size(stack_size)
                    .spawn_scoped(scope, worker)
                    .ok()
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    // Connections no worker ran (none could be spawned, or one panicked) fail here.
    results.sort_by_key(|r| r.id);
    let mut all = Vec::with_capacity(workload.len());
    let mut ran = results.into_iter().peekable();
    for id in 0..workload.len() {
        match ran.next_if(|r| r.id == id) {
            Some(r) => all.push(r),
            None => {
                let why = FetchError::Setup("no pool thread ran this connection".into());
                all.push(ConnectionResult::failed_at_start(workload.clock, id, &why));
            }
        }
    }
    all
}

/// Exercise 5: a pool of 10 threads runs 100 connections with never more than 10 in progress,
/// in waves: connection j starts only once at least j - 9 of the ones before it are done.
/// Run with `--nocapture` to see the timeline.
#[test]
fn a_pool_of_10_runs_100_connections_in_waves() {
    let server = ServerHandle::start_default().unwrap();
    let (n, k) = (100, 10);
    let path = format!("/delay/{DELAY_MS}");
    let results = pool(
        &workload(&server, &path, n, Duration::from_secs(10)),
        k,
        step01_blocking::STACK_SIZE,
    );
    println!("{}", testbed::timeline::ascii(&results, 64));
    testbed::faults::assert_all_ok(&results, n, DELAY_MS);

    // How many connections were in progress when `r` started (itself included).
    let in_progress = |r: &ConnectionResult| {
        results
            .iter()
            .filter(|o| o.start_ms <= r.start_ms && r.start_ms < o.done_ms)
            .count()
    };
    let most = results.iter().map(in_progress).max().unwrap_or(0);
    assert!(1 < most && most <= k, "{most} connections at once");

    for r in &results {
        let done_before = results[..r.id]
            .iter()
            .filter(|o| o.done_ms <= r.start_ms)
            .count();
        assert!(
            done_before + (k - 1) >= r.id,
            "#{} started when only {done_before} of the connections before it were done",
            r.id
        );
    }
}
// ANCHOR_END: pool
