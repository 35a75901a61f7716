//! One connection, the blocking way, on a green thread: step 1's `fetch.rs` with one line
//! changed, the `use` of `TcpStream`. Every call still waits until its work is done; what waits
//! is this green thread, while the hub runs the others. (A test checks that nothing else
//! differs.)

use std::io::{self, ErrorKind, Read, Write};

use testbed::{ConnectionRecord, ConnectionResult, FetchError, Stage, Target, Workload};

use crate::net::TcpStream;

/// The size of the read buffer. Any size works: `read` returns what has arrived, up to this.
const READ_BUFFER: usize = 8 * 1024;

/// Runs connection `id` of `workload` from connect to the end of the response, blocking the
/// calling thread throughout, and returns its result.
pub fn fetch(workload: &Workload, id: usize) -> ConnectionResult {
    let mut record = workload.record(id);
    let outcome = exchange(workload, &workload.targets[id], &mut record);
    record.finish(outcome)
}

// ANCHOR: exchange
/// Connect, send the request, read until the server closes, check the response.
fn exchange(
    workload: &Workload,
    target: &Target,
    record: &mut ConnectionRecord,
) -> Result<(), FetchError> {
    // connect() blocks until the TCP handshake is done (or refused). A plain
    // `TcpStream::connect` could block for minutes on an unreachable host, so we bound it by
    // what is left of this connection's deadline.
    let timeout = record.time_left(Stage::Connect)?;
    let mut stream = TcpStream::connect_timeout(&target.addr, timeout)
        .map_err(|e| blocking_error(e, Stage::Connect, record))?;
    record.connected();

    // write_all() blocks until the kernel has taken every byte of the request.
    stream
        .set_write_timeout(Some(record.time_left(Stage::Write)?))
        .map_err(|e| FetchError::io(Stage::Write, e))?;
    stream
        .write_all(&target.request())
        .map_err(|e| blocking_error(e, Stage::Write, record))?;
    record.written();

    // Each read() blocks until some bytes arrive or the server closes. This is where the
    // thread spends the server's whole delay, doing nothing.
    let mut check = workload.response_check();
    let mut buf = [0u8; READ_BUFFER];
    loop {
        stream
            .set_read_timeout(Some(record.time_left(Stage::Read)?))
            .map_err(|e| FetchError::io(Stage::Read, e))?;
        match stream.read(&mut buf) {
            // Ok(0) is end-of-file: the server closed, which in HTTP/1.0 ends the response.
            Ok(0) => break,
            Ok(n) => {
                record.received(n);
                // A bad response (wrong status, too large) stops the reading here.
                check.feed(&buf[..n])?;
            }
            // A signal interrupted the wait before anything arrived: simply wait again.
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(blocking_error(e, Stage::Read, record)),
        }
    }
    check.finish()?;
    Ok(())
}
// ANCHOR_END: exchange

/// Turns the error of a blocking call into the connection's failure. A socket timeout shows
/// up as `WouldBlock` (EAGAIN) on Unix and `TimedOut` elsewhere: both mean our deadline passed.
fn blocking_error(e: io::Error, stage: Stage, record: &ConnectionRecord) -> FetchError {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => record.timed_out(stage),
        _ => FetchError::io(stage, e),
    }
}
