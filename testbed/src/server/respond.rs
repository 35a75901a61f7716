//! Answering a routed request: the honest delay and the five ways to misbehave.

use std::time::Duration;

use socket2::SockRef;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ServerConfig;
use super::request::{Reject, Route};

/// The whole response `/chaos/drip` sends, one byte at a time. A client that handles partial
/// reads receives exactly these bytes and succeeds.
pub const DRIP_RESPONSE: &[u8] =
    b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\ndrip, drip, drip.\n";

/// The `Content-Length` that `/chaos/short` promises.
pub const SHORT_CONTENT_LENGTH: usize = 1000;

/// How many body bytes `/chaos/short` really sends before it closes.
pub const SHORT_BODY_SENT: usize = 100;

/// How many body bytes `/chaos/huge` sends (if the client keeps reading): four times a
/// client's 1 MiB limit.
pub const HUGE_BODY_BYTES: usize = 4 << 20;

/// How long one write may stall (a client that stops reading) before we give up on it. Each
/// `write` call gets this long to move at least one byte; a slow but steady reader is never
/// cut off, however long the whole response takes.
const WRITE_STALL: Duration = Duration::from_secs(30);

/// After our answer, how long we keep draining what the client still sends before closing.
const LINGER: Duration = Duration::from_secs(2);

/// Serves a route that was accepted.
pub async fn serve(mut stream: TcpStream, route: Route, config: &ServerConfig) {
    match route {
        Route::Delay(delay) => {
            // The whole point of the server: this task sleeps on a timer, and other
            // connections are served meanwhile. (tokio's timer has millisecond steps, so
            // even a zero sleep would cost up to a millisecond: skip it.)
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if write(&mut stream, &delay_response(delay)).await {
                close_gracefully(stream).await;
            }
        }
        Route::Reset => {
            // SO_LINGER with a zero timeout makes close() abort the connection: the kernel
            // discards what is queued and sends RST instead of FIN.
            let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            drop(stream);
        }
        Route::Hang => {
            // Never answer; keep reading (and discarding) until the client gives up.
            drain(&mut stream, usize::MAX).await;
        }
        Route::Drip => {
            for byte in DRIP_RESPONSE {
                if !write(&mut stream, std::slice::from_ref(byte)).await {
                    return;
                }
                tokio::time::sleep(config.drip_interval).await;
            }
            close_gracefully(stream).await;
        }
        Route::Short => {
            let mut bytes = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {SHORT_CONTENT_LENGTH}\r\n\r\n"
            )
            .into_bytes();
            bytes.extend(std::iter::repeat_n(b's', SHORT_BODY_SENT));
            if write(&mut stream, &bytes).await {
                close_gracefully(stream).await;
            }
        }
        Route::Huge => {
            // No Content-Length: in HTTP/1.0 the body then ends where the connection does, so
            // a client can only notice it is too big by counting.
            let head = b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n";
            if !write(&mut stream, head).await {
                return;
            }
            let chunk = vec![b'h'; 64 * 1024];
            let mut sent = 0;
            while sent < HUGE_BODY_BYTES {
                // The client hanging up after its limit is the expected way this ends.
                if !write(&mut stream, &chunk).await {
                    return;
                }
                sent += chunk.len();
            }
            close_gracefully(stream).await;
        }
    }
}

/// The exact response to `/delay/{ms}`: tests use its length to check byte counts.
pub fn delay_response(delay: Duration) -> Vec<u8> {
    response(200, "OK", &format!("waited {} ms\n", delay.as_millis()))
}

/// Answers with an error status and closes.
pub async fn reject(mut stream: TcpStream, reject: Reject) {
    let body = format!("{}\n", reject.message);
    if write(&mut stream, &response(reject.status, reject.reason, &body)).await {
        close_gracefully(stream).await;
    }
}

/// A complete HTTP/1.0 response with a text body.
fn response(status: u16, reason: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.0 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Writes all of `bytes`; `false` when the client is gone or stopped reading for too long.
async fn write(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    write_stalling_at_most(stream, bytes, WRITE_STALL).await
}

/// Writes all of `bytes`, giving each `write` call `stall` to move at least one byte; `false`
/// when the client is gone or a call stalled that long.
async fn write_stalling_at_most(stream: &mut TcpStream, mut bytes: &[u8], stall: Duration) -> bool {
    while !bytes.is_empty() {
        match tokio::time::timeout(stall, stream.write(bytes)).await {
            Ok(Ok(n)) if n > 0 => bytes = &bytes[n..],
            // Gone (an error, or a write of zero bytes), or stalled.
            _ => return false,
        }
    }
    true
}

/// Ends our side with FIN, then reads what the client may still send until it closes too.
///
/// Closing a socket whose receive queue still holds unread bytes makes the kernel send RST,
/// and a RST can destroy our answer before the client has read it. Draining first (the
/// "lingering close" of web servers) means a 400 or 431 really reaches a client that was
/// still sending.
async fn close_gracefully(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let _ = tokio::time::timeout(LINGER, drain(&mut stream, 1 << 20)).await;
}

/// Reads and discards until EOF, an error, or `limit` bytes.
async fn drain(stream: &mut TcpStream, limit: usize) {
    let mut buf = [0u8; 4096];
    let mut total = 0usize;
    while total < limit {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => total = total.saturating_add(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::time::Instant;

    /// A connected pair on loopback with small buffers both ways, so that the kernel holds only
    /// a few KiB between the writer (ours, tokio) and the reader (std, on a thread).
    async fn small_buffered_pair() -> (TcpStream, std::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.set_recv_buffer_size(4 * 1024).unwrap();
        let connect = tokio::task::spawn_blocking(move || {
            socket.connect(&addr.into()).unwrap();
            std::net::TcpStream::from(socket)
        });
        let (ours, _) = listener.accept().await.unwrap();
        SockRef::from(&ours).set_send_buffer_size(4 * 1024).unwrap();
        (ours, connect.await.unwrap())
    }

    /// A reader that takes 4 KiB every 20 ms (about 200 KiB/s) is cut off by no stall limit,
    /// however long the whole write takes: 256 KiB take more than a second, the stall limit is
    /// 300 ms. (Before the fix, the limit bounded the whole write, and this one failed.)
    #[tokio::test]
    async fn a_slow_steady_reader_is_not_cut_off() {
        let (mut ours, mut theirs) = small_buffered_pair().await;
        let total = 256 * 1024;
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4 * 1024];
            let mut got = 0;
            while got < total {
                match theirs.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            got
        });
        let began = Instant::now();
        let ok =
            write_stalling_at_most(&mut ours, &vec![7u8; total], Duration::from_millis(300)).await;
        let took = began.elapsed();
        assert!(ok, "the write was given up after {took:?}");
        assert!(
            took > Duration::from_millis(300),
            "the reader was not slow: {took:?}"
        );
        assert_eq!(
            tokio::task::spawn_blocking(move || reader.join().unwrap())
                .await
                .unwrap(),
            total
        );
    }

    /// A reader that stops reading is given up on after one stall limit.
    #[tokio::test]
    async fn a_reader_that_stops_is_given_up_on() {
        let (mut ours, theirs) = small_buffered_pair().await;
        let ok = write_stalling_at_most(&mut ours, &vec![7u8; 4 << 20], Duration::from_millis(100))
            .await;
        assert!(!ok);
        drop(theirs);
    }
}
