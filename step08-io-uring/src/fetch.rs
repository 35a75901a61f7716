//! One connection on the ring: step 6's `async fn`, with owned buffers. The steps, their order
//! and their errors are step 6's; what changes is that each buffer goes to the kernel and comes
//! back with the result.

use std::time::Instant;

use testbed::{ConnectionRecord, ConnectionResult, FetchError, ResponseCheck, Stage, Target};

use crate::uring::net::TcpStream;
use crate::uring::time::timeout;

// ANCHOR: exchange
/// One connection: connect, send the request, read until the server closes, check the response.
/// Step 6's `exchange`, except that `write_all` and `read` take their buffer and give it back.
pub async fn exchange(
    target: &Target,
    record: &mut ConnectionRecord,
    check: &mut ResponseCheck,
) -> Result<(), FetchError> {
    let stream = TcpStream::connect(target.addr)
        .await
        .map_err(|e| FetchError::io(Stage::Connect, e))?;
    record.connected();
    let (written, _request) = stream.write_all(target.request()).await;
    written.map_err(|e| FetchError::io(Stage::Write, e))?;
    record.written();
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        let (n, back) = stream.read(buf).await;
        buf = back;
        let n = n.map_err(|e| FetchError::io(Stage::Read, e))?;
        if n == 0 {
            break; // end-of-file: the server closed, the response is complete
        }
        record.received(n);
        check.feed(&buf[..n])?;
    }
    Ok(())
}
// ANCHOR_END: exchange

// ANCHOR: fetch
/// One connection with its deadline: `exchange`, cancelled (dropped) if it runs out of time.
pub async fn fetch(
    target: Target,
    mut record: ConnectionRecord,
    mut check: ResponseCheck,
) -> ConnectionResult {
    let left = record.deadline().saturating_duration_since(Instant::now());
    let outcome = match timeout(left, exchange(&target, &mut record, &mut check)).await {
        Ok(Ok(())) => check.finish().map(drop).map_err(FetchError::from),
        Ok(Err(error)) => Err(error),
        Err(_elapsed) => Err(record.timed_out(record.stage_reached())),
    };
    record.finish(outcome)
}
// ANCHOR_END: fetch
