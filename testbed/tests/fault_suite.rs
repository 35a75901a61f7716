//! The fault suite itself, run through a small reference client (a blocking thread per
//! connection) that handles every fault correctly, and through broken clients that each check
//! must catch.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

use testbed::{ConnectionRecord, ConnectionResult, FetchError, Stage, Target, Workload, faults};

/// One connection, done right: deadlines on every blocking call, partial reads, the check.
fn exchange(
    workload: &Workload,
    target: &Target,
    record: &mut ConnectionRecord,
) -> Result<(), FetchError> {
    let left = record.time_left(Stage::Connect)?;
    let mut stream =
        TcpStream::connect_timeout(&target.addr, left).map_err(|e| match e.kind() {
            ErrorKind::TimedOut => record.timed_out(Stage::Connect),
            _ => FetchError::io(Stage::Connect, e),
        })?;
    record.connected();
    stream
        .set_write_timeout(Some(record.time_left(Stage::Write)?))
        .map_err(|e| FetchError::io(Stage::Write, e))?;
    stream
        .write_all(&target.request())
        .map_err(|e| FetchError::io(Stage::Write, e))?;
    record.written();
    let mut check = workload.response_check();
    let mut buf = [0u8; 16 * 1024];
    loop {
        stream
            .set_read_timeout(Some(record.time_left(Stage::Read)?))
            .map_err(|e| FetchError::io(Stage::Read, e))?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                record.received(n);
                check.feed(&buf[..n])?;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(record.timed_out(Stage::Read));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(FetchError::io(Stage::Read, e)),
        }
    }
    check.finish()?;
    Ok(())
}

/// The reference fan-out: one scoped thread per connection.
fn reference(workload: &Workload) -> Vec<ConnectionResult> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = workload
            .targets
            .iter()
            .enumerate()
            .map(|(id, target)| {
                scope.spawn(move || {
                    let mut record = workload.record(id);
                    let outcome = exchange(workload, target, &mut record);
                    record.finish(outcome)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a connection thread panicked"))
            .collect()
    })
}

testbed::fault_suite!(reference);

/// A client that trusts whatever arrives (no response check) is caught by the short check.
#[test]
#[should_panic(expected = "should fail with \"truncated response")]
fn a_client_without_the_check_is_caught() {
    faults::short(|workload: &Workload| {
        reference(workload)
            .into_iter()
            .map(|r| ConnectionResult {
                ok: r.bytes > 0,
                error: None,
                ..r
            })
            .collect::<Vec<_>>()
    });
}

/// A client that loses a connection's result is caught by every check.
#[test]
#[should_panic(expected = "exactly one result per connection")]
fn a_client_that_loses_a_result_is_caught() {
    faults::all_succeed(|workload: &Workload| {
        let mut results = reference(workload);
        results.pop();
        results
    });
}

/// A client without a deadline would wait forever on `/chaos/hang`; one that gives up too
/// early is caught too.
#[test]
#[should_panic(expected = "gave up after")]
fn a_client_that_gives_up_early_is_caught() {
    faults::hang(|workload: &Workload| {
        let mut hurried = workload.clone();
        hurried.timeout /= 10;
        reference(&hurried)
    });
}
