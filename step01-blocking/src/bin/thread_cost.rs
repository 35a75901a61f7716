//! What an OS thread costs in memory: 1,000 threads alive at once, at three stack sizes.
//!
//! ```text
//! cargo run --release -p step01-blocking --bin thread_cost
//! cargo run --release -p step01-blocking --bin thread_cost -- --threads 10000 --touched-kib 4
//! ```
//!
//! Each thread touches `--touched-kib` of its stack (16 KiB by default: about what a connection's
//! `fetch` uses), then waits while the process's address space (VmSize) and resident memory
//! (VmRSS) are read from /proc/self/status (Linux). Each stack size is measured in a fresh
//! process (this program re-runs itself), because a process keeps finished threads' stacks.
#![forbid(unsafe_code)]

use std::io;
use std::process::Command;

use clap::Parser;
use step01_blocking::thread_cost::measure;

/// Memory per thread, measured.
#[derive(Debug, Parser)]
struct Args {
    /// How many threads to keep alive at once.
    #[arg(long, default_value_t = 1000)]
    threads: usize,
    /// How much of its stack each thread touches, in KiB.
    #[arg(long, default_value_t = 16)]
    touched_kib: usize,
    /// Measure only this stack size, in KiB, and print its row (what the re-runs do).
    #[arg(long)]
    stack_kib: Option<usize>,
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    if let Some(stack_kib) = args.stack_kib {
        let cost = measure(args.threads, stack_kib, args.touched_kib)?;
        println!(
            "{:>10} KiB {:>18.0} KiB {:>18.1} KiB",
            stack_kib, cost.virtual_kib_per_thread, cost.resident_kib_per_thread
        );
        return Ok(());
    }
    println!(
        "{} threads alive at once, each touching {} KiB of its stack",
        args.threads, args.touched_kib
    );
    println!(
        "{:>14} {:>22} {:>22}",
        "stack size", "reserved per thread", "resident per thread"
    );
    // 64 KiB: what step 1 gives its threads; 2 MiB: Rust's default for spawned threads;
    // 8 MiB: the usual default for a process's main thread (ulimit -s).
    for stack_kib in [64, 2 * 1024, 8 * 1024] {
        let status = Command::new(std::env::current_exe()?)
            .args([
                "--threads",
                &args.threads.to_string(),
                "--touched-kib",
                &args.touched_kib.to_string(),
            ])
            .args(["--stack-kib", &stack_kib.to_string()])
            .status()?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "measuring {stack_kib} KiB stacks failed: {status}"
            )));
        }
    }
    Ok(())
}
