//! The hazards of the cancellation chapter, each on our runtime and on tokio:
//!
//! ```text
//! cargo run -p cancellation -- lines       # a select! loop over two line readers
//! cargo run -p cancellation -- write-all   # write_all cut by a timeout, and counted writes
//! cargo run -p cancellation -- busy        # a timeout around a loop with no .await, and one with
//! cargo run -p cancellation -- tasks       # a JoinHandle dropped, a task aborted
//! cargo run -p cancellation -- queue       # a lock's waiter that gives up and asks again
//! ```
#![forbid(unsafe_code)]

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use cancellation::busy::{spin_with_yields, spin_without_await};
use cancellation::lines::{self, Received};
use cancellation::peer::{self, LINES};
use cancellation::write::{self, Sent};

const USAGE: &str = "usage: cancellation lines | write-all | busy | tasks | queue";

/// How much each sender tries to send: more than the socket buffers hold on loopback.
const MESSAGE: usize = 32 << 20;
/// The sender's deadline, and how long the peer reads nothing.
const LIMIT: Duration = Duration::from_millis(100);
const PEER_WAITS: Duration = Duration::from_millis(300);

fn main() -> ExitCode {
    testbed::run::quiet_when_the_reader_stops_reading(); // `| head` ends it quietly
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["lines"] => show_lines(),
        ["write-all"] => show_writes(),
        ["busy"] => show_busy(),
        ["tasks"] => show_tasks(),
        ["queue"] => show_queue(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cancellation: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `reader` against a fresh peer sending [`LINES`] in halves, and prints what it got.
fn line_case(
    name: &str,
    reader: impl FnOnce(std::net::SocketAddr) -> io::Result<Received>,
) -> io::Result<()> {
    let (addr, server) = peer::lines_in_halves()?;
    let received = reader(addr)?;
    server.join().expect("the peer does not panic")?;
    println!("{name:<34} {:?} ({} ticks)", received.lines, received.ticks);
    Ok(())
}

fn show_lines() -> io::Result<()> {
    println!("{:<34} {LINES:?}", "sent");
    line_case("ours, read_line (not cancel safe)", |addr| {
        step05_futures::block_on(lines::ticking_read_line(addr))
    })?;
    line_case("ours, LineReader (cancel safe)", |addr| {
        step05_futures::block_on(lines::ticking_line_reader(addr))
    })?;
    let tokio = cancellation::tokio_runtime();
    line_case("tokio, read_line (not cancel safe)", |addr| {
        tokio.block_on(lines::ticking_on_tokio(addr, false))
    })?;
    line_case("tokio, Lines (cancel safe)", |addr| {
        tokio.block_on(lines::ticking_on_tokio(addr, true))
    })
}

/// Runs `sender` against a fresh late reader, and prints what each side knows.
fn write_case(
    name: &str,
    sender: impl FnOnce(std::net::SocketAddr, &[u8]) -> io::Result<Sent>,
) -> io::Result<()> {
    let (addr, server) = peer::late_reader(PEER_WAITS)?;
    let data = vec![b'x'; MESSAGE];
    let sent = sender(addr, &data)?;
    let received = server.join().expect("the peer does not panic")?;
    let known = match sent.known {
        Some(n) => format!("{n} bytes"),
        None => "unknown".to_string(),
    };
    println!(
        "{name:<34} cut: {:<5} sender knows: {known:<16} peer got: {received} of {MESSAGE} bytes",
        sent.cut
    );
    Ok(())
}

fn show_writes() -> io::Result<()> {
    write_case("ours, write_all (not cancel safe)", |addr, data| {
        step05_futures::block_on(write::write_all_cut(addr, data, LIMIT))
    })?;
    write_case("ours, counted writes", |addr, data| {
        step05_futures::block_on(write::write_counted(addr, data, LIMIT))
    })?;
    let tokio = cancellation::tokio_runtime();
    write_case("tokio, write_all (not cancel safe)", |addr, data| {
        tokio.block_on(write::on_tokio(addr, data, LIMIT, false))
    })?;
    write_case("tokio, counted writes", |addr, data| {
        tokio.block_on(write::on_tokio(addr, data, LIMIT, true))
    })
}

/// A 10 ms timeout around 50 ms of work, with and without `.await`s in it.
fn show_busy() -> io::Result<()> {
    let (deadline, work) = (Duration::from_millis(10), Duration::from_millis(50));
    let timed =
        |name: &str, outcome: Result<u64, step06_async_await::timeout::Elapsed>, took: Duration| {
            let outcome = match outcome {
                Ok(_) => "finished: the timeout could not cut it".to_string(),
                Err(_) => "cut by the timeout".to_string(),
            };
            println!(
                "{name:<34} {outcome}, after {:.1} ms",
                took.as_secs_f64() * 1000.0
            );
            // A timeline, 2 ms a column: the work, and where the deadline fell in it.
            let columns = (took.as_secs_f64() * 500.0).round() as usize;
            let at_deadline = (deadline.as_secs_f64() * 500.0).round() as usize;
            let mut bar = "#".repeat(columns);
            bar.insert(at_deadline.min(columns), '|');
            println!("  {bar}");
        };
    let started = std::time::Instant::now();
    let outcome = step05_futures::block_on(step06_async_await::timeout::timeout(
        deadline,
        spin_without_await(work),
    ));
    timed("50 ms of work with no .await", outcome, started.elapsed());
    let started = std::time::Instant::now();
    let outcome = step05_futures::block_on(step06_async_await::timeout::timeout(
        deadline,
        spin_with_yields(work),
    ));
    timed(
        "50 ms of work, yielding every ms",
        outcome,
        started.elapsed(),
    );
    println!("(# = 2 ms of work, | = the timeout's deadline, 10 ms after the start)");
    Ok(())
}

/// A task detached and a task aborted, on ours and on tokio.
fn show_tasks() -> io::Result<()> {
    println!("ours:");
    for line in cancellation::tasks::ours() {
        println!("  {line}");
    }
    println!("tokio:");
    for line in cancellation::tasks::on_tokio() {
        println!("  {line}");
    }
    Ok(())
}

/// Three waiters for a held lock, the first of which gives up and asks again.
fn show_queue() -> io::Result<()> {
    println!("asked in the order [\"a\", \"b\", \"c\"]; a gave up after 10 ms and asked again");
    println!("ours, served:  {:?}", cancellation::queue::ours());
    println!("tokio, served: {:?}", cancellation::queue::on_tokio());
    println!(
        "ours, a semaphore's permits after a waiter gave up: {} of 1",
        cancellation::queue::permits_left_after_a_cut()
    );
    Ok(())
}
