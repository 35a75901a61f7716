//! What a green thread costs in memory: 1,000 alive at once, at three stack sizes; the same
//! measurement as step 1's `thread_cost`, so the two tables can be read side by side.
//!
//! ```text
//! cargo run --release -p step07-green-threads --bin green_cost
//! cargo run --release -p step07-green-threads --bin green_cost -- --green-threads 10000 --touched-kib 4
//! ```
//!
//! Each green thread touches `--touched-kib` of its stack (16 KiB by default, as in step 1),
//! then waits on an event while the process's address space (VmSize) and resident memory
//! (VmRSS) are read from /proc/self/status (Linux). Each stack size is measured in a fresh
//! process (this program re-runs itself), because the hub keeps finished green threads' stacks
//! for reuse.
#![forbid(unsafe_code)]

use std::io;
use std::process::Command;

use clap::Parser;
use step07_green_threads::green_cost::measure;

/// Memory per green thread, measured.
#[derive(Debug, Parser)]
struct Args {
    /// How many green threads to keep alive at once.
    #[arg(long, default_value_t = 1000)]
    green_threads: usize,
    /// How much of its stack each green thread touches, in KiB.
    #[arg(long, default_value_t = 16)]
    touched_kib: usize,
    /// Measure only this stack size, in KiB, and print its row (what the re-runs do).
    #[arg(long)]
    stack_kib: Option<usize>,
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    if let Some(stack_kib) = args.stack_kib {
        let cost = measure(args.green_threads, stack_kib, args.touched_kib)?;
        println!(
            "{:>10} KiB {:>24.0} KiB {:>24.1} KiB",
            stack_kib, cost.virtual_kib_per_green_thread, cost.resident_kib_per_green_thread
        );
        return Ok(());
    }
    println!(
        "{} green threads alive at once, each touching {} KiB of its stack",
        args.green_threads, args.touched_kib
    );
    println!(
        "{:>14} {:>28} {:>28}",
        "stack size", "reserved per green thread", "resident per green thread"
    );
    // 32 KiB: tight (a deep call chain would hit the guard page); 64 KiB: what the hub gives
    // by default; 256 KiB: room for deep recursion, at four times the address space.
    for stack_kib in [32, 64, 256] {
        if stack_kib < args.touched_kib + 8 {
            println!(
                "{stack_kib:>10} KiB   (skipped: too small to touch {} KiB)",
                args.touched_kib
            );
            continue;
        }
        let status = Command::new(std::env::current_exe()?)
            .args(["--green-threads", &args.green_threads.to_string()])
            .args(["--touched-kib", &args.touched_kib.to_string()])
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
