//! The talk's two servers, run as the step's binary: hello greets 1,000 clients; echo returns
//! every byte to 1,000 concurrent clients sending 64 KiB in random-sized pieces, while some
//! clients vanish halfway, and keeps serving.

use std::net::SocketAddr;
use std::process::Command;

use testbed::ChildServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENTS: usize = 1000;
const BYTES: usize = 64 * 1024;

fn server(subcommand: &str) -> ChildServer {
    let mut command = Command::new(env!("CARGO_BIN_EXE_step04-callbacks"));
    command.arg(subcommand);
    ChildServer::start(command).expect("start the server")
}

fn runtime() -> tokio::runtime::Runtime {
    testbed::limits::ensure_open_files(testbed::limits::needed_for(CLIENTS))
        .expect("room for the clients");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A small deterministic generator, so every client sends different data in different pieces.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Every one of 1,000 concurrent clients is greeted with exactly "Hello\n", then closed.
#[test]
fn hello_greets_a_thousand_clients() {
    let server = server("hello-server");
    let addr = server.addr();
    let greetings = runtime().block_on(async move {
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|_| {
                tokio::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.expect("connect");
                    let mut greeting = Vec::new();
                    stream
                        .read_to_end(&mut greeting)
                        .await
                        .expect("read to EOF");
                    greeting
                })
            })
            .collect();
        let mut greetings = Vec::new();
        for task in tasks {
            greetings.push(task.await.unwrap());
        }
        greetings
    });
    assert!(greetings.iter().all(|g| g == b"Hello\n"));
}

/// One echo client: sends `BYTES` in random pieces while reading the echo, then half-closes
/// and checks it got back exactly what it sent. A vanishing client stops halfway and drops its
/// connection without reading.
async fn echo_client(addr: SocketAddr, id: usize, vanish: bool) -> Result<(), String> {
    let mut seed = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let data: Vec<u8> = (0..BYTES).map(|_| xorshift(&mut seed) as u8).collect();
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut reader, mut writer) = stream.into_split();
    let to_send = if vanish { BYTES / 2 } else { BYTES };
    let sending = {
        let data = data.clone();
        async move {
            let mut sent = 0;
            while sent < to_send {
                let piece = 1 + (xorshift(&mut seed) as usize % 4096);
                let end = (sent + piece).min(to_send);
                writer
                    .write_all(&data[sent..end])
                    .await
                    .map_err(|e| format!("write: {e}"))?;
                sent = end;
            }
            if !vanish {
                writer
                    .shutdown()
                    .await
                    .map_err(|e| format!("shutdown: {e}"))?;
            }
            Ok::<_, String>(writer)
        }
    };
    if vanish {
        // Gone mid-stream: drop both halves without reading what came back.
        let _ = sending.await?;
        return Ok(());
    }
    let receiving = async move {
        let mut echoed = Vec::with_capacity(BYTES);
        reader
            .read_to_end(&mut echoed)
            .await
            .map_err(|e| format!("read: {e}"))?;
        Ok::<_, String>(echoed)
    };
    let (sent, echoed) = tokio::join!(sending, receiving);
    sent?;
    let echoed = echoed?;
    if echoed != data {
        let at = echoed
            .iter()
            .zip(&data)
            .position(|(a, b)| a != b)
            .unwrap_or(echoed.len().min(data.len()));
        return Err(format!(
            "client {id}: {} bytes back, first difference at {at}",
            echoed.len()
        ));
    }
    Ok(())
}

/// 1,000 concurrent clients, one in ten vanishing halfway: every other client gets back exactly
/// its 64 KiB, and afterwards the server still echoes.
#[test]
fn echo_returns_every_byte_to_a_thousand_clients() {
    let server = server("echo-server");
    let addr = server.addr();
    let failures = runtime().block_on(async move {
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|id| tokio::spawn(echo_client(addr, id, id % 10 == 3)))
            .collect();
        let mut failures = Vec::new();
        for task in tasks {
            if let Err(e) = task.await.unwrap() {
                failures.push(e);
            }
        }
        // The server is still there for a newcomer.
        if let Err(e) = echo_client(addr, CLIENTS, false).await {
            failures.push(format!("after the load: {e}"));
        }
        failures
    });
    assert!(
        failures.is_empty(),
        "{} failures, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
}
