//! Echo mode: load every echo server the same way and check every byte that comes back.
//!
//! Each server runs in a child process of `compare` (the hidden [`ECHO_SERVER_SUBCOMMAND`]). The
//! load comes from this process: C connections, each sending M messages of S bytes, one at a
//! time, and reading each echo back before sending the next. Every byte of every echo is checked
//! against what was sent, and each round trip is timed.

use std::io;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use testbed::ChildServer;

/// The hidden first argument that makes `compare` run one echo server.
pub const ECHO_SERVER_SUBCOMMAND: &str = "__echo-server";

/// An echo server `compare` can load.
#[derive(Debug, Clone, Copy)]
pub struct EchoServer {
    /// Its name in `--servers` and in the table.
    pub name: &'static str,
    /// Serves on `addr` until the process ends, printing `listening on HOST:PORT` first.
    pub serve: fn(SocketAddr) -> io::Result<()>,
}

// ANCHOR: echo_servers
/// Every echo server there is. Steps 4 to 9 add theirs here.
pub fn servers() -> Vec<EchoServer> {
    vec![
        EchoServer {
            name: "step04-callbacks",
            serve: step04_echo,
        },
        EchoServer {
            name: "step05-futures",
            serve: |addr| step05_futures::echo::echo_server(addr, testbed::child::announce),
        },
        EchoServer {
            name: "step06-async-await",
            serve: |addr| step06_async_await::echo::echo_server(addr, testbed::child::announce),
        },
        EchoServer {
            name: "step07-green-threads",
            serve: |addr| step07_green_threads::echo::echo_server(addr, testbed::child::announce),
        },
        EchoServer {
            name: "step08-io-uring",
            serve: |addr| step08_io_uring::echo::echo_server(addr, testbed::child::announce),
        },
        EchoServer {
            name: "step09-work-stealing",
            serve: |addr| step09_echo(addr, "ours"),
        },
        EchoServer {
            name: "tokio-multi-thread",
            serve: |addr| step09_echo(addr, "tokio"),
        },
        EchoServer {
            name: "tokio",
            serve: |addr| step06_async_await::on_tokio::echo_server(addr, testbed::child::announce),
        },
    ]
}
// ANCHOR_END: echo_servers

/// Step 9's echo server on `runtime` (ours or tokio's multi_thread), one worker per core.
fn step09_echo(addr: SocketAddr, runtime: &str) -> io::Result<()> {
    use step09_work_stealing::{Options, fan_out::workers, runtime::budget::BUDGET};
    let workers = workers(&Options::default());
    match runtime {
        "tokio" => {
            step09_work_stealing::on_tokio::echo_server(workers, addr, testbed::child::announce)
        }
        _ => step09_work_stealing::echo::echo_server(
            workers,
            Some(BUDGET),
            addr,
            testbed::child::announce,
        ),
    }
}

/// Step 4's echo server: Twisted's echo protocol on the callback loop.
fn step04_echo(addr: SocketAddr) -> io::Result<()> {
    let io_loop = step04_callbacks::IoLoop::new()?;
    let addr = step04_callbacks::protocol::listen_tcp(
        &io_loop,
        addr,
        step04_callbacks::echo::EchoFactory,
    )?;
    testbed::child::announce(addr)?;
    io_loop.run()
}

/// The load: how many connections, messages and bytes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Load {
    /// Concurrent connections.
    pub connections: usize,
    /// Messages per connection, one after another.
    pub messages: usize,
    /// Bytes per message.
    pub size: usize,
}

/// What one server did under the load.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EchoRow {
    /// The server.
    pub server: String,
    /// Round trips completed per second, over the whole load.
    pub requests_per_s: f64,
    /// Median round-trip time.
    pub p50_us: f64,
    /// 99th percentile round-trip time.
    pub p99_us: f64,
    /// Round trips that failed or came back wrong.
    pub errors: usize,
    /// Bytes that came back and matched what was sent.
    pub bytes_verified: u64,
    /// Wall time of the whole load.
    pub wall_ms: f64,
    /// The server process's CPU time (user + system) over its life.
    pub server_cpu_ms: f64,
    /// The first error, if any.
    pub first_error: Option<String>,
}

/// The bytes of message `message` on connection `connection`: different for every message, so
/// an echo of the wrong message, or bytes out of order, are caught.
pub fn payload(connection: usize, message: usize, size: usize) -> Vec<u8> {
    let seed = (connection as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (message as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    (0..size)
        .map(|i| {
            (seed
                .wrapping_add(i as u64)
                .wrapping_mul(0x2545_F491_4F6C_DD1D)
                >> 56) as u8
        })
        .collect()
}

/// What the load measured: every round trip's time, and what went wrong.
#[derive(Debug, Default)]
struct Measured {
    /// One entry per completed round trip.
    times: Vec<Duration>,
    /// Bytes that came back as sent.
    verified: u64,
    /// Connections that ended in an error.
    errors: usize,
    /// The first of those errors.
    first_error: Option<String>,
    /// Wall time of the whole load.
    wall: Duration,
}

/// One connection's part of the load: its round-trip times, verified bytes, and error if any.
async fn client(
    addr: SocketAddr,
    connection: usize,
    load: Load,
) -> (Vec<Duration>, u64, Option<String>) {
    let mut times = Vec::with_capacity(load.messages);
    let mut verified = 0u64;
    let mut stream = match TcpStream::connect(addr).await {
        Ok(stream) => stream,
        Err(e) => return (times, verified, Some(format!("connect: {e}"))),
    };
    let _ = stream.set_nodelay(true);
    let mut echo = vec![0u8; load.size];
    for message in 0..load.messages {
        let sent = payload(connection, message, load.size);
        let started = Instant::now();
        if let Err(e) = stream.write_all(&sent).await {
            return (times, verified, Some(format!("write: {e}")));
        }
        if let Err(e) = stream.read_exact(&mut echo).await {
            return (times, verified, Some(format!("read: {e}")));
        }
        times.push(started.elapsed());
        if echo != sent {
            let at = echo
                .iter()
                .zip(&sent)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            return (
                times,
                verified,
                Some(format!(
                    "connection {connection}, message {message}: byte {at} differs"
                )),
            );
        }
        verified += load.size as u64;
    }
    (times, verified, None)
}

/// Runs the load against `addr`.
fn drive(addr: SocketAddr, load: Load) -> io::Result<Measured> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(async move {
        let started = Instant::now();
        let tasks: Vec<_> = (0..load.connections)
            .map(|c| tokio::spawn(client(addr, c, load)))
            .collect();
        let mut measured = Measured::default();
        for task in tasks {
            let (times, verified, error) = task
                .await
                .unwrap_or_else(|_| (Vec::new(), 0, Some("a client task panicked".into())));
            measured.times.extend(times);
            measured.verified += verified;
            if let Some(error) = error {
                measured.errors += 1;
                measured.first_error.get_or_insert(error);
            }
        }
        measured.wall = started.elapsed();
        measured
    }))
}

/// The CPU time of this process's waited-for children so far, in ms.
fn children_cpu_ms() -> f64 {
    getrusage(UsageWho::RUSAGE_CHILDREN).map_or(0.0, |u| {
        let ms = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 * 1e3 + tv.tv_usec() as f64 / 1e3;
        ms(u.user_time()) + ms(u.system_time())
    })
}

/// Starts `server` in a child process of `exe`, loads it, stops it, and reports.
pub fn run(exe: &std::path::Path, server: &EchoServer, load: Load) -> io::Result<EchoRow> {
    let mut command = Command::new(exe);
    command.args([ECHO_SERVER_SUBCOMMAND, server.name]);
    let cpu_before = children_cpu_ms();
    let child = ChildServer::start(command)?;
    let Measured {
        mut times,
        verified,
        errors,
        first_error,
        wall,
    } = drive(child.addr(), load)?;
    // Dropping the handle kills and reaps the server, which adds its CPU time to ours.
    drop(child);
    let server_cpu_ms = children_cpu_ms() - cpu_before;
    times.sort_unstable();
    let quantile = |q: f64| {
        times
            .get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    Ok(EchoRow {
        server: server.name.to_string(),
        requests_per_s: times.len() as f64 / wall.as_secs_f64().max(1e-9),
        p50_us: quantile(0.50),
        p99_us: quantile(0.99),
        errors,
        bytes_verified: verified,
        wall_ms: wall.as_secs_f64() * 1e3,
        server_cpu_ms,
        first_error,
    })
}

/// The rows as a table for a terminal.
pub fn text(load: Load, rows: &[EchoRow]) -> String {
    let mut out = format!(
        "echo: {} connections x {} messages of {} bytes, every byte checked\n\n{:<20} {:>12} {:>10} {:>10} {:>8} {:>14} {:>12}\n",
        load.connections,
        load.messages,
        load.size,
        "server",
        "requests/s",
        "p50 us",
        "p99 us",
        "errors",
        "bytes checked",
        "server cpu ms"
    );
    for row in rows {
        out.push_str(&format!(
            "{:<20} {:>12.0} {:>10.1} {:>10.1} {:>8} {:>14} {:>12.1}\n",
            row.server,
            row.requests_per_s,
            row.p50_us,
            row.p99_us,
            row.errors,
            row.bytes_verified,
            row.server_cpu_ms
        ));
        if let Some(error) = &row.first_error {
            out.push_str(&format!("  first error: {error}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Payloads differ between messages and connections, and are the same when asked twice.
    #[test]
    fn payloads_are_distinct_and_repeatable() {
        assert_eq!(payload(3, 7, 64), payload(3, 7, 64));
        assert_ne!(payload(3, 7, 64), payload(3, 8, 64));
        assert_ne!(payload(3, 7, 64), payload(4, 7, 64));
        assert_eq!(payload(0, 0, 10).len(), 10);
    }
}
