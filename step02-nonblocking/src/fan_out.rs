//! The fan-out with non-blocking sockets and no waiting at all: one loop visits every socket in
//! turn, again and again, asking each "can you go on?", until all are done.

use testbed::{ConnectionResult, Outcome, Variant, Workload};

use crate::connection::{Connection, Visit};

/// The size of the read buffer shared by all connections (one visit reads into it at a time).
const READ_BUFFER: usize = 8 * 1024;

/// What the fan-out returns: the results and how often the kernel said "not yet".
#[derive(Debug, Clone)]
pub struct BusyWaitOutcome {
    /// One result per connection.
    pub results: Vec<ConnectionResult>,
    /// How many times a call answered "not yet" (`EINPROGRESS` still going, `EWOULDBLOCK`).
    pub not_yet: u64,
    /// How many times the loop went round all the unfinished connections.
    pub passes: u64,
}

impl From<BusyWaitOutcome> for Outcome {
    /// The report gets the results, plus `not_yet` and `passes` as fields of this step's own.
    fn from(outcome: BusyWaitOutcome) -> Outcome {
        let mut report = Outcome::from(outcome.results);
        report
            .extra
            .insert("not_yet".into(), outcome.not_yet.into());
        report.extra.insert("passes".into(), outcome.passes.into());
        report
    }
}

// ANCHOR: busy_wait
/// Starts every connect, then visits the unfinished connections in turn, round and round,
/// without ever sleeping, until all are done.
pub fn busy_wait(workload: &Workload) -> BusyWaitOutcome {
    let mut results = Vec::with_capacity(workload.len());
    let mut in_flight = Vec::with_capacity(workload.len());
    for id in 0..workload.len() {
        match Connection::start(workload, id) {
            Ok(connection) => in_flight.push(connection),
            Err(failed) => results.push(failed),
        }
    }
    let mut buf = vec![0u8; READ_BUFFER];
    let (mut not_yet, mut passes) = (0, 0);
    while !in_flight.is_empty() {
        passes += 1;
        // Visit each connection once; keep the ones that are not finished for the next pass.
        let mut still_in_flight = Vec::with_capacity(in_flight.len());
        for mut connection in in_flight {
            match connection.visit(&mut buf) {
                Ok(Visit::NotYet) => {
                    not_yet += 1;
                    still_in_flight.push(connection);
                }
                Ok(Visit::Finished) => results.push(connection.finish(Ok(()))),
                Err(e) => results.push(connection.finish(Err(e))),
            }
        }
        in_flight = still_in_flight;
    }
    results.sort_by_key(|r| r.id);
    BusyWaitOutcome {
        results,
        not_yet,
        passes,
    }
}
// ANCHOR_END: busy_wait

/// This step's one fan-out, as the binary and `compare` run it.
pub fn variants() -> Vec<Variant> {
    vec![Variant {
        step: env!("CARGO_PKG_NAME"),
        variant: "busy-wait",
        about: "One loop visits every socket in turn, never sleeping",
        fan_out: |w| busy_wait(w).into(),
        cannot_run: testbed::variants::always,
    }]
}
