//! Backpressure, measured: the work server (`work-server`, in a process of its own) under a
//! flood of clients that all come at once, once per policy. Each client sends a request and
//! waits for its answer; when all are answered (or have failed), the server gets SIGTERM and
//! says how many jobs it held at most, and its peak memory. Meanwhile a thread samples the
//! kernel's own memory for TCP buffers (`/proc/net/sockstat`, the whole machine's): what
//! the server does not hold, the kernel may.
//!
//! ```text
//! cargo run --release -p step06-async-await --bin flood
//! cargo run --release -p step06-async-await --bin flood -- --runtime tokio --clients 4000
//! ```
#![forbid(unsafe_code)]

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use step05_futures::net::TcpStream;
use step05_futures::{block_on, spawn};
use step06_async_await::timeout::timeout;

/// Flood the work server with each policy, and compare.
#[derive(Debug, Parser)]
struct Args {
    /// Which runtime runs the server: `ours` or `tokio`.
    #[arg(long, default_value = "ours", value_parser = ["ours", "tokio"])]
    runtime: String,
    /// Clients, all started at once.
    #[arg(long, default_value_t = 2000)]
    clients: usize,
    /// Each client's request, in KiB.
    #[arg(long, default_value_t = 32)]
    request_kib: usize,
    /// The server's `--capacity`.
    #[arg(long, default_value_t = 64)]
    capacity: usize,
    /// The server's `--workers`.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// The server's `--work-ms`.
    #[arg(long, default_value_t = 2)]
    work_ms: u64,
    /// The policies to run, in order.
    #[arg(long, value_delimiter = ',', default_value = "unbounded,wait,shed")]
    policies: Vec<String>,
}

fn main() -> ExitCode {
    testbed::run::quiet_when_the_reader_stops_reading();
    let args = Args::parse();
    if let Err(e) = testbed::limits::ensure_open_files(testbed::limits::needed_for(args.clients)) {
        eprintln!("flood: {e}");
        return ExitCode::from(1);
    }
    println!(
        "{} clients at once, {} KiB each; {} workers, {} ms a job; capacity {}; server on {}",
        args.clients, args.request_kib, args.workers, args.work_ms, args.capacity, args.runtime
    );
    println!();
    println!(
        "| policy | answered `done` | answered `busy` | failed | jobs held at most | queued at most | server's peak RSS | kernel's TCP buffers at most | last answer |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    for policy in &args.policies {
        match flood(&args, policy) {
            Ok(row) => println!("{row}"),
            Err(e) => {
                eprintln!("flood: {policy}: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

/// How one client ended.
enum Answer {
    Done,
    Busy,
    Failed(String),
}

/// Starts the server with `policy`, floods it, stops it; the table row.
fn flood(args: &Args, policy: &str) -> io::Result<String> {
    let (mut server, mut lines, addr) = start_server(args, policy)?;
    let request = vec![b'x'; args.request_kib * 1024];
    let expected = format!("done {}\n", request.len());
    let started = Instant::now();
    let sampler = KernelBuffers::sample_every(Duration::from_millis(5));
    let answers = block_on(async {
        let clients: Vec<_> = (0..args.clients)
            .map(|_| spawn(client(addr, request.clone(), expected.clone(), started)))
            .collect();
        let mut answers = Vec::new();
        for client in clients {
            answers.push(client.await);
        }
        answers
    });
    let kernel_most = sampler.stop();
    // Every client has its answer: now the server's counts are final.
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()?;
    let stopped = next_line(&mut lines)?;
    let status = server.wait()?;
    if !status.success() {
        return Err(io::Error::other(format!("the server ended with {status}")));
    }
    let stats = parse_stopped(&stopped)?;
    let (mut done, mut busy, mut failed, mut last) = (0, 0, Vec::new(), Duration::ZERO);
    for (answer, at) in answers {
        last = last.max(at);
        match answer {
            Answer::Done => done += 1,
            Answer::Busy => busy += 1,
            Answer::Failed(why) => failed.push(why),
        }
    }
    if let Some(first) = failed.first() {
        eprintln!(
            "flood: {policy}: {} clients failed; the first: {first}",
            failed.len()
        );
    }
    Ok(format!(
        "| {policy} | {done} | {busy} | {} | {} | {} | {} MiB | {} | {:.2} s |",
        failed.len(),
        stats[0],
        stats[1],
        stats[2],
        kernel_most.map_or("unknown".to_string(), |pages| format!(
            "{:.1} MiB",
            pages as f64 * 4096.0 / (1024.0 * 1024.0)
        )),
        last.as_secs_f64()
    ))
}

/// One client: connect, send the request, close our side, read the answer.
async fn client(
    addr: SocketAddr,
    request: Vec<u8>,
    expected: String,
    started: Instant,
) -> (Answer, Duration) {
    let answer = match timeout(Duration::from_secs(60), exchange(addr, &request)).await {
        Err(_) => Answer::Failed("no answer within 60 s".into()),
        Ok(Err(e)) => Answer::Failed(e.to_string()),
        Ok(Ok(answer)) if answer == expected.as_bytes() => Answer::Done,
        Ok(Ok(answer)) if answer == b"busy\n" => Answer::Busy,
        Ok(Ok(answer)) => Answer::Failed(format!(
            "unexpected answer {:?}",
            String::from_utf8_lossy(&answer)
        )),
    };
    (answer, started.elapsed())
}

async fn exchange(addr: SocketAddr, request: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    stream.shutdown_write()?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf).await? {
            0 => return Ok(answer),
            n => answer.extend_from_slice(&buf[..n]),
        }
    }
}

/// Starts `work-server` (this step's binary sits beside this one) with `policy`.
fn start_server(
    args: &Args,
    policy: &str,
) -> io::Result<(Child, io::Lines<BufReader<ChildStdout>>, SocketAddr)> {
    let exe = std::env::current_exe()?.with_file_name("step06-async-await");
    let mut server = Command::new(&exe)
        .args(["work-server", "--addr", "127.0.0.1:0", "--policy", policy])
        .args(["--runtime", &args.runtime])
        .args(["--capacity", &args.capacity.to_string()])
        .args(["--workers", &args.workers.to_string()])
        .args(["--work-ms", &args.work_ms.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot start {}: {e}", exe.display())))?;
    let mut lines = BufReader::new(server.stdout.take().expect("piped")).lines();
    let listening = next_line(&mut lines)?;
    let addr = listening
        .strip_prefix("listening on ")
        .and_then(|addr| addr.parse().ok())
        .ok_or_else(|| io::Error::other(format!("unexpected first line: {listening}")))?;
    Ok((server, lines, addr))
}

fn next_line(lines: &mut io::Lines<BufReader<ChildStdout>>) -> io::Result<String> {
    lines
        .next()
        .unwrap_or_else(|| Err(io::Error::other("the server ended early")))
}

/// Held at most, queued at most and peak RSS (MiB) from the server's `stopped: ...` line.
fn parse_stopped(line: &str) -> io::Result<[String; 3]> {
    let after = |key: &str| -> Option<String> {
        let rest = &line[line.find(key)? + key.len()..];
        Some(rest.split([' ', ';', ',']).next()?.to_string())
    };
    match (
        after("held at most "),
        after("queued at most "),
        after("peak RSS "),
    ) {
        (Some(held), Some(queued), Some(rss)) => Ok([held, queued, rss]),
        _ => Err(io::Error::other(format!("unexpected last line: {line}"))),
    }
}

/// A thread that reads the kernel's TCP memory (`mem`, in pages, on the `TCP:` line of
/// `/proc/net/sockstat`) until stopped, and keeps the most it saw.
struct KernelBuffers {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Option<u64>>,
}

impl KernelBuffers {
    fn sample_every(period: Duration) -> KernelBuffers {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_too = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut most = None;
            while !stop_too.load(Ordering::Relaxed) {
                let now = std::fs::read_to_string("/proc/net/sockstat")
                    .ok()
                    .and_then(|text| tcp_mem_pages(&text));
                most = most.max(now);
                std::thread::sleep(period);
            }
            most
        });
        KernelBuffers { stop, thread }
    }

    /// The most pages seen; `None` where `/proc/net/sockstat` cannot be read (not Linux).
    fn stop(self) -> Option<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or(None)
    }
}

/// The `mem` field of the `TCP:` line.
fn tcp_mem_pages(sockstat: &str) -> Option<u64> {
    let line = sockstat.lines().find(|line| line.starts_with("TCP:"))?;
    let mut fields = line.split_whitespace();
    fields.find(|field| *field == "mem")?;
    fields.next()?.parse().ok()
}
