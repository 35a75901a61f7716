//! The worked solution of the comparison chapter's exercise 4: the batched fan-out of chapter 3
//! as rows of the comparison, `step03-select/poll-batched` and `step03-select/epoll-batched`.
//!
//! A test file of another crate cannot be called from here, so the batched loop (the solution
//! of chapter 3's exercise 4) is written again below, shortened. In the real change it lives
//! in `step03-select/src/fan_out.rs`, next to `fan_out`, and both the step's tests and
//! `compare/src/steps.rs` call it from there.
#![cfg(target_os = "linux")]

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use compare::steps::Variant;
use step02_nonblocking::connection::{Connection, Visit};
use step03_select::epoll::Epoll;
use step03_select::poll::Poll;
use step03_select::waiter::Waiter;
use testbed::{ConnectionResult, FetchError, Stage, Workload};

/// How many connections are started between two looks at what is ready.
const BATCH: usize = 100;

/// Chapter 3's batched fan-out: start `BATCH`, look (zero timeout) and visit what is ready,
/// start the next batch...; once all are started, sleep until the nearest deadline as usual.
fn fan_out_batched<W: Waiter>(workload: &Workload, mut waiter: W) -> Vec<ConnectionResult> {
    let mut connections: BTreeMap<RawFd, Connection> = BTreeMap::new();
    let mut deadlines: BTreeSet<(Instant, RawFd)> = BTreeSet::new();
    let mut results = Vec::with_capacity(workload.len());
    let mut buf = vec![0u8; 8 * 1024];
    let mut ready = Vec::new();
    let mut next = 0;
    // Takes a connection out of the run and records its outcome.
    let retire = |connections: &mut BTreeMap<RawFd, Connection>,
                  deadlines: &mut BTreeSet<(Instant, RawFd)>,
                  waiter: &mut W,
                  results: &mut Vec<ConnectionResult>,
                  fd: RawFd,
                  outcome: Result<(), FetchError>| {
        if let Some(connection) = connections.remove(&fd) {
            deadlines.remove(&(connection.deadline(), fd));
            let _ = waiter.removed(&connection);
            results.push(connection.finish(outcome));
        }
    };
    while next < workload.len() || !connections.is_empty() {
        let end = (next + BATCH).min(workload.len());
        for id in next..end {
            match Connection::start(workload, id) {
                Err(failed) => results.push(failed),
                Ok(connection) => match waiter.added(&connection) {
                    Err(e) => {
                        results.push(connection.finish(Err(FetchError::io(Stage::Connect, e))))
                    }
                    Ok(()) => {
                        deadlines.insert((connection.deadline(), connection.fd()));
                        connections.insert(connection.fd(), connection);
                    }
                },
            }
        }
        next = end;
        let timeout = if next < workload.len() {
            Some(Duration::ZERO)
        } else {
            deadlines
                .first()
                .map(|(deadline, _)| deadline.saturating_duration_since(Instant::now()))
        };
        ready.clear();
        if let Err(e) = waiter.wait(&connections, timeout, &mut ready) {
            let why = format!("{}() failed: {e}", waiter.name());
            for fd in connections.keys().copied().collect::<Vec<_>>() {
                let error = Err(FetchError::Setup(why.clone()));
                retire(
                    &mut connections,
                    &mut deadlines,
                    &mut waiter,
                    &mut results,
                    fd,
                    error,
                );
            }
            let error = FetchError::Setup(why);
            results.extend(
                (next..workload.len())
                    .map(|id| ConnectionResult::failed_at_start(workload.clock, id, &error)),
            );
            break;
        }
        for &fd in &ready {
            let Some(connection) = connections.get_mut(&fd) else {
                continue;
            };
            let wanted = connection.wants();
            let outcome = match connection.visit(&mut buf) {
                Ok(Visit::NotYet) if connection.wants() == wanted => continue,
                Ok(Visit::NotYet) => match waiter.changed(connection) {
                    Ok(()) => continue,
                    Err(e) => Err(FetchError::io(Stage::Read, e)),
                },
                Ok(Visit::Finished) => Ok(()),
                Err(e) => Err(e),
            };
            retire(
                &mut connections,
                &mut deadlines,
                &mut waiter,
                &mut results,
                fd,
                outcome,
            );
        }
        let now = Instant::now();
        while let Some(&(deadline, fd)) = deadlines.first() {
            if deadline > now {
                break;
            }
            match connections.get(&fd).map(Connection::timed_out) {
                Some(error) => retire(
                    &mut connections,
                    &mut deadlines,
                    &mut waiter,
                    &mut results,
                    fd,
                    Err(error),
                ),
                None => {
                    deadlines.pop_first();
                }
            }
        }
    }
    results.sort_by_key(|r| r.id);
    results
}

// ANCHOR: batched_variants
/// The two rows to add to step 3's list, `variants()` in `step03-select/src/fan_out.rs`, after
/// the `epoll` row (the binary's `--variant` and `compare` then both have them). There,
/// `fan_out` calls the crate's own `fan_out_batched` instead of the copy in this file.
fn batched_variants() -> Vec<Variant> {
    vec![
        Variant {
            step: "step03-select",
            variant: "poll-batched",
            about: "poll(2), the connects started in batches",
            fan_out: |w| fan_out_batched(w, Poll).into(),
            cannot_run: testbed::variants::always,
        },
        Variant {
            step: "step03-select",
            variant: "epoll-batched",
            about: "epoll(7), the connects started in batches",
            fan_out: |w| match Epoll::new() {
                Ok(epoll) => fan_out_batched(w, epoll).into(),
                Err(e) => w
                    .all_failed(&FetchError::Setup(format!(
                        "cannot create an epoll instance: {e}"
                    )))
                    .into(),
            },
            cannot_run: testbed::variants::always,
        },
    ]
}

/// The new rows run a fan-out like any other row (all 250 connections ok, in id order), and
/// `--steps` can name them without catching other rows: `poll` still selects exactly the
/// `poll` row, and `poll,epoll,poll-batched,epoll-batched` selects four rows.
#[test]
fn batched_rows_run_and_can_be_selected() {
    let (_server, workload) = Workload::zero_delay(250).unwrap();
    let batched = batched_variants();
    for variant in &batched {
        assert!(variant.matches("step03-select"));
        let outcome = (variant.fan_out)(&workload);
        assert_eq!(outcome.results.len(), 250, "{}", variant.name());
        for (id, r) in outcome.results.iter().enumerate() {
            assert!(r.ok && r.id == id, "{}: {r:?}", variant.name());
        }
    }

    let mut rows = compare::steps::all();
    rows.extend(batched);
    let names = |filters: &[&str]| -> Vec<String> {
        rows.iter()
            .filter(|v| filters.iter().any(|f| v.matches(f)))
            .map(Variant::name)
            .collect()
    };
    assert_eq!(names(&["poll"]), ["step03-select/poll"]);
    assert_eq!(
        names(&["poll", "epoll", "poll-batched", "epoll-batched"]),
        [
            "step03-select/poll",
            "step03-select/epoll",
            "step03-select/poll-batched",
            "step03-select/epoll-batched"
        ]
    );
}
// ANCHOR_END: batched_variants
