//! One connection, on step 9's runtime: step 6's `fetch.rs`, line for line (a test checks it);
//! only the imports differ. Its future is `Send`, so any worker may poll it.

use std::time::Instant;

use testbed::{ConnectionRecord, ConnectionResult, FetchError, ResponseCheck, Stage, Target};

use crate::runtime::net::TcpStream;
use crate::runtime::time::timeout;

// ANCHOR: exchange
/// One connection: connect, send the request, read until the server closes, check the response.
/// The same steps, in the same order, as step 1's blocking `exchange`; each `.await` is where
/// step 1 blocked, and where this task lets the others run.
pub async fn exchange(
    target: &Target,
    record: &mut ConnectionRecord,
    check: &mut ResponseCheck,
) -> Result<(), FetchError> {
    let mut stream = TcpStream::connect(target.addr)
        .await
        .map_err(|e| FetchError::io(Stage::Connect, e))?;
    record.connected();
    stream
        .write_all(&target.request())
        .await
        .map_err(|e| FetchError::io(Stage::Write, e))?;
    record.written();
    let mut buf = [0u8; 8 * 1024];
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| FetchError::io(Stage::Read, e))?;
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
