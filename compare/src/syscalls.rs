//! Counting a run's system calls: the fan-out re-run once under `strace -f -c`, which counts
//! every call of every thread of the process, and how many failed.
//!
//! The count comes from a run of its own, after the timed ones: tracing makes each call many
//! times slower, so a traced run's time says nothing. It includes the process's own start-up
//! and report (about 120 calls here, 1.2 per connection at 100 connections, 0.01 at 10,000).

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// A run's system calls, by kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Syscalls {
    /// Every call.
    pub total: u64,
    /// Calls that returned an error: mostly `EINPROGRESS` (a non-blocking connect) and
    /// `EAGAIN` (a read or write that would block).
    pub failed: u64,
    /// `socket` and `connect`.
    pub connect: u64,
    /// Waiting for the kernel's news: `epoll_wait`, `poll`, `select`, `io_uring_enter` and
    /// their variants.
    pub wait: u64,
    /// Reads and writes on sockets (or the eventfd that wakes a sleeping loop): `read`,
    /// `write`, `recvfrom`, `sendto` and their variants.
    pub io: u64,
    /// `futex`: threads waking (or waiting for) each other.
    pub futex: u64,
    /// Everything else: `epoll_ctl`, `close`, memory, start-up.
    pub other: u64,
}

impl Syscalls {
    /// Reads the table `strace -c` writes.
    pub fn parse(table: &str) -> Syscalls {
        let mut counts = Syscalls::default();
        for line in table.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // % time, seconds, usecs/call, calls, [errors,] syscall
            let (calls, errors, name) = match fields.as_slice() {
                [_, _, _, calls, errors, name] => (calls, *errors, *name),
                [_, _, _, calls, name] => (calls, "0", *name),
                _ => continue,
            };
            let (Ok(calls), Ok(errors)) = (calls.parse::<u64>(), errors.parse::<u64>()) else {
                continue; // the header
            };
            if name == "total" {
                continue;
            }
            counts.total += calls;
            counts.failed += errors;
            *counts.kind(name) += calls;
        }
        counts
    }

    /// The counter a call of `name` goes to.
    fn kind(&mut self, name: &str) -> &mut u64 {
        match name {
            "socket" | "connect" => &mut self.connect,
            "epoll_wait" | "epoll_pwait" | "epoll_pwait2" | "poll" | "ppoll" | "select"
            | "pselect6" | "io_uring_enter" => &mut self.wait,
            "read" | "write" | "readv" | "writev" | "recvfrom" | "sendto" | "recvmsg"
            | "sendmsg" => &mut self.io,
            "futex" => &mut self.futex,
            _ => &mut self.other,
        }
    }
}

/// Runs `command` under `strace -f -c` and returns its counts, or why it could not.
pub fn count(command: Command, scratch: &Path) -> Result<Syscalls, String> {
    let table = scratch.join("strace-counts.txt");
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(ToOwned::to_owned).collect();
    let output = Command::new("strace")
        .args(["-f", "-c", "-q", "-o"])
        .arg(&table)
        .arg("--")
        .arg(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run strace (Debian: apt-get install strace): {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        return Err(format!(
            "the counted run failed ({}): {}",
            output.status,
            tail.join(" / ")
        ));
    }
    let text = std::fs::read_to_string(&table)
        .map_err(|e| format!("cannot read strace's counts in {}: {e}", table.display()))?;
    Ok(Syscalls::parse(&text))
}

#[cfg(test)]
mod tests {
    use super::Syscalls;

    /// A table as `strace -c` prints it: rows with and without an errors column, the total.
    #[test]
    fn reads_strace_tables() {
        let table = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ------------------
 40.00    0.004000           4      1000      1000 connect
 20.00    0.002000           2      1000           socket
 10.00    0.001000          10       100           epoll_wait
  9.00    0.000900           0      1000           write
  8.00    0.000800           0      2000      1000 read
  5.00    0.000500           0      1000           close
  1.00    0.000100           0         3           futex
------ ----------- ----------- --------- --------- ------------------
100.00    0.010000           1      6103      2000 total
";
        let counts = Syscalls::parse(table);
        assert_eq!(
            counts,
            Syscalls {
                total: 6103,
                failed: 2000,
                connect: 2000,
                wait: 100,
                io: 3000,
                futex: 3,
                other: 1000,
            }
        );
    }
}
