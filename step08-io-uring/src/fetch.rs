//! One connection on the ring: step 6's `async fn`, with buffers the kernel can hold. The
//! steps, their order and their errors are step 6's; what changes is that the request goes to
//! the kernel and comes back with the result, and that the response is read either into a
//! buffer the connection owns (lent to the kernel with every receive, as the request is) or
//! into the ring's pool, from which the kernel picks a buffer only when data arrives.

use std::time::Instant;

use testbed::{ConnectionRecord, ConnectionResult, FetchError, ResponseCheck, Stage, Target};

use crate::uring::net::TcpStream;

/// Where a connection's response is received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buffers {
    /// Into the ring's pool of buffers, which the kernel picks from when data arrives (the
    /// ring must have one: [`Ring::provide_buffers`](crate::uring::ring::Ring::provide_buffers)).
    Pool,
    /// Into a buffer each connection owns, lent to the kernel with every receive.
    Owned,
}
use crate::uring::time::timeout;

// ANCHOR: exchange
/// One connection: connect, send the request, read until the server closes, check the response.
/// Step 6's `exchange`, except that `write_all` takes its buffer and gives it back, and the
/// response is read into the buffers `buffers` says.
pub async fn exchange(
    target: &Target,
    record: &mut ConnectionRecord,
    check: &mut ResponseCheck,
    buffers: Buffers,
) -> Result<(), FetchError> {
    let stream = TcpStream::connect(target.addr)
        .await
        .map_err(|e| FetchError::io(Stage::Connect, e))?;
    record.connected();
    let (written, _request) = stream.write_all(target.request()).await;
    written.map_err(|e| FetchError::io(Stage::Write, e))?;
    record.written();
    match buffers {
        Buffers::Pool => read_from_pool(&stream, record, check).await,
        Buffers::Owned => read_owned(&stream, record, check).await,
    }
}
// ANCHOR_END: exchange

// ANCHOR: read_owned
/// Reads the response into a buffer of its own, which goes to the kernel with every receive
/// and comes back with the result: held for as long as the receive waits.
async fn read_owned(
    stream: &TcpStream,
    record: &mut ConnectionRecord,
    check: &mut ResponseCheck,
) -> Result<(), FetchError> {
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        let (n, back) = stream.read(buf).await;
        buf = back;
        let n = n.map_err(|e| FetchError::io(Stage::Read, e))?;
        if n == 0 {
            return Ok(()); // end-of-file: the server closed, the response is complete
        }
        record.received(n);
        check.feed(&buf[..n])?;
    }
}
// ANCHOR_END: read_owned

// ANCHOR: read_from_pool
/// Reads the response into buffers of the ring's pool, each picked by the kernel when data
/// arrives and given back as soon as it is checked: a waiting receive holds no memory.
async fn read_from_pool(
    stream: &TcpStream,
    record: &mut ConnectionRecord,
    check: &mut ResponseCheck,
) -> Result<(), FetchError> {
    loop {
        let received = stream
            .read_from_pool()
            .await
            .map_err(|e| FetchError::io(Stage::Read, e))?;
        if received.is_empty() {
            return Ok(()); // end-of-file: the server closed, the response is complete
        }
        record.received(received.len());
        check.feed(&received)?;
    } // `received` is dropped here, each time round: its buffer goes back to the pool
}
// ANCHOR_END: read_from_pool

// ANCHOR: fetch
/// One connection with its deadline: `exchange`, cancelled (dropped) if it runs out of time.
pub async fn fetch(
    target: Target,
    mut record: ConnectionRecord,
    mut check: ResponseCheck,
    buffers: Buffers,
) -> ConnectionResult {
    let left = record.deadline().saturating_duration_since(Instant::now());
    let exchange = exchange(&target, &mut record, &mut check, buffers);
    let outcome = match timeout(left, exchange).await {
        Ok(Ok(())) => check.finish().map(drop).map_err(FetchError::from),
        Ok(Err(error)) => Err(error),
        Err(_elapsed) => Err(record.timed_out(record.stage_reached())),
    };
    record.finish(outcome)
}
// ANCHOR_END: fetch
