//! The echo-server check: the same load for every step's echo server, with every byte checked.
//!
//! Like the fault suite for fan-outs, these functions are what a step's tests run its echo
//! server through. The clients run on a tokio runtime in the calling process, so the server
//! under test should run in a process of its own (its binary's `echo-server` subcommand,
//! started with [`ChildServer::start`](crate::ChildServer::start)). Each function returns the
//! failures it saw, one line each: an empty list means the server passed.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A small deterministic generator: every client sends different data in different pieces.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A runtime for the clients, with room for `clients` sockets.
fn runtime(clients: usize) -> tokio::runtime::Runtime {
    crate::limits::ensure_open_files(crate::limits::needed_for(clients))
        .expect("room for the clients");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("start tokio")
}

/// One client: sends `bytes` pseudo-random bytes in random-sized pieces while reading the echo,
/// half-closes, and checks that exactly what it sent came back. A vanishing client stops
/// halfway and drops its connection without reading anything.
async fn client(addr: SocketAddr, id: usize, bytes: usize, vanish: bool) -> Result<(), String> {
    let mut seed = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let data: Vec<u8> = (0..bytes).map(|_| xorshift(&mut seed) as u8).collect();
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("client {id}: connect: {e}"))?;
    let (mut reader, mut writer) = stream.into_split();
    let to_send = if vanish { bytes / 2 } else { bytes };
    let sending = {
        let data = data.clone();
        async move {
            let mut sent = 0;
            while sent < to_send {
                let end = (sent + 1 + (xorshift(&mut seed) as usize % 4096)).min(to_send);
                writer
                    .write_all(&data[sent..end])
                    .await
                    .map_err(|e| format!("client {id}: write: {e}"))?;
                sent = end;
            }
            if !vanish {
                writer
                    .shutdown()
                    .await
                    .map_err(|e| format!("client {id}: shutdown: {e}"))?;
            }
            Ok::<_, String>(())
        }
    };
    if vanish {
        return sending.await;
    }
    let receiving = async move {
        let mut echoed = Vec::with_capacity(bytes);
        reader
            .read_to_end(&mut echoed)
            .await
            .map_err(|e| format!("client {id}: read: {e}"))?;
        Ok::<_, String>(echoed)
    };
    let checked = tokio::time::timeout(Duration::from_secs(60), async {
        let (sent, echoed) = tokio::join!(sending, receiving);
        sent?;
        let echoed = echoed?;
        if echoed == data {
            return Ok(());
        }
        let at = echoed
            .iter()
            .zip(&data)
            .position(|(a, b)| a != b)
            .unwrap_or(echoed.len().min(data.len()));
        Err(format!(
            "client {id}: {} of {bytes} bytes back, first difference at byte {at}",
            echoed.len()
        ))
    });
    checked
        .await
        .unwrap_or_else(|_| Err(format!("client {id}: no progress within 60 s (a stall)")))
}

/// `clients` clients at once, each sending `bytes` while reading its echo, every
/// `vanish_every`-th one vanishing halfway (0: none); then one more client, to check the server
/// still serves after all that.
pub fn concurrent_clients(
    addr: SocketAddr,
    clients: usize,
    bytes: usize,
    vanish_every: usize,
) -> Vec<String> {
    runtime(clients).block_on(async move {
        let tasks: Vec<_> = (0..clients)
            .map(|id| {
                let vanish = vanish_every > 0 && id % vanish_every == vanish_every / 2;
                tokio::spawn(client(addr, id, bytes, vanish))
            })
            .collect();
        let mut failures = Vec::new();
        for task in tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(failure)) => failures.push(failure),
                Err(e) => failures.push(format!("a client task panicked: {e}")),
            }
        }
        if let Err(e) = client(addr, clients, bytes, false).await {
            failures.push(format!("after the load: {e}"));
        }
        failures
    })
}

// ANCHOR: standard
/// The standard check of the book's echo servers: 1,000 concurrent clients of 64 KiB each, one
/// in ten vanishing halfway; then 4 clients of 8 MiB each, past any server's buffering, where a
/// server that stops reading and forgets to start again stalls.
pub fn standard(addr: SocketAddr) -> Vec<String> {
    let mut failures = concurrent_clients(addr, 1000, 64 * 1024, 10);
    failures.extend(concurrent_clients(addr, 4, 8 << 20, 0));
    failures
}
// ANCHOR_END: standard
