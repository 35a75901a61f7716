//! The fan-out written as callbacks: each connection is a chain of deferreds (connect, then
//! send, then read, then check), started all at once on one event loop, with a timer per
//! connection for its deadline.

use std::cell::RefCell;
use std::rc::Rc;

use testbed::{ConnectionRecord, ConnectionResult, FetchError, Variant, Workload};

use crate::client::{Watch, connect, read_response, send};
use crate::io_loop::{IoLoop, TimerId};

// ANCHOR: connection
/// What the callbacks of one connection share: each of them may be the one to finish it.
struct Connection {
    /// The record, until the connection is finished (then `None`: it finishes once).
    record: RefCell<Option<ConnectionRecord>>,
    /// The handler the connection is waiting in, to cancel at the deadline.
    watch: Watch,
    /// The deadline's timer, to cancel when the connection ends first.
    deadline: RefCell<Option<TimerId>>,
    /// Where finished connections go: shared by every connection of the run.
    results: Rc<RefCell<Vec<ConnectionResult>>>,
}
// ANCHOR_END: connection

impl Connection {
    /// Marks a moment on the record, if the connection is still going.
    fn mark(&self, mark: impl FnOnce(&mut ConnectionRecord)) {
        if let Some(record) = self.record.borrow_mut().as_mut() {
            mark(record);
        }
    }

    /// Ends the connection with `outcome`, once: the first of the chain and the timer wins.
    fn finish(&self, outcome: Result<(), FetchError>) {
        let Some(record) = self.record.borrow_mut().take() else {
            return;
        };
        self.results.borrow_mut().push(record.finish(outcome));
    }
}

// ANCHOR: start
/// Starts connection `id`: its deadline timer, and its chain of callbacks.
fn start(
    io_loop: &IoLoop,
    workload: &Workload,
    id: usize,
    results: &Rc<RefCell<Vec<ConnectionResult>>>,
) {
    let target = &workload.targets[id];
    // ANCHOR: deadline_timer
    let connection = Rc::new(Connection {
        record: RefCell::new(Some(workload.record(id))),
        watch: Watch::default(),
        deadline: RefCell::new(None),
        results: Rc::clone(results),
    });
    // The deadline: cancel whatever operation is waiting (dropping its socket and its trigger,
    // so the chain below never goes on) and fail the connection.
    let on_deadline = Rc::clone(&connection);
    let timer = io_loop.call_later(workload.timeout, move |io_loop| {
        if let Some(token) = on_deadline.watch.take() {
            io_loop.remove_handler(token);
        }
        let error = on_deadline
            .record
            .borrow()
            .as_ref()
            .map(|r| r.timed_out(r.stage_reached()));
        if let Some(error) = error {
            on_deadline.finish(Err(error));
        }
    });
    *connection.deadline.borrow_mut() = Some(timer);
    // ANCHOR_END: deadline_timer

    let (request, check) = (target.request(), workload.response_check());
    let (loop1, loop2, loop3) = (io_loop.clone(), io_loop.clone(), io_loop.clone());
    let (conn1, conn2, conn3, conn4) = (
        Rc::clone(&connection),
        Rc::clone(&connection),
        Rc::clone(&connection),
        Rc::clone(&connection),
    );
    connect(io_loop, target.addr, &connection.watch)
        .add_callback(move |stream| {
            conn1.mark(ConnectionRecord::connected);
            send(&loop1, stream, request, &conn1.watch)
        })
        .add_callback(move |stream| {
            conn2.mark(ConnectionRecord::written);
            let counter = Rc::clone(&conn2);
            read_response(
                &loop2,
                stream,
                check,
                move |n| counter.mark(|r| r.received(n)),
                &conn2.watch,
            )
        })
        .add_callback(move |check| check.finish().map(drop).map_err(FetchError::from))
        .add_both(move |outcome| {
            if let Some(timer) = conn3.deadline.borrow_mut().take() {
                loop3.cancel_timer(timer);
            }
            conn4.finish(outcome);
        });
}
// ANCHOR_END: start

// ANCHOR: fan_out
/// Starts every connection on one loop and runs the loop until all are finished.
pub fn fan_out(workload: &Workload) -> Vec<ConnectionResult> {
    let results = Rc::new(RefCell::new(Vec::with_capacity(workload.len())));
    let io_loop = match IoLoop::new() {
        Ok(io_loop) => io_loop,
        Err(e) => {
            return workload.all_failed(&FetchError::Setup(format!(
                "cannot create the event loop: {e}"
            )));
        }
    };
    for id in 0..workload.len() {
        start(&io_loop, workload, id, &results);
    }
    // Returns when no handler, timer or pending callback is left: every connection is done.
    // If the loop itself failed, whatever has not finished fails with it, below.
    let stopped = match io_loop.run() {
        Ok(()) => "the event loop stopped before this connection finished".to_string(),
        Err(e) => format!("the event loop failed before this connection finished: {e}"),
    };
    let mut results = results.take();
    let finished: std::collections::HashSet<usize> = results.iter().map(|r| r.id).collect();
    let error = FetchError::Setup(stopped);
    for id in (0..workload.len()).filter(|id| !finished.contains(id)) {
        results.push(ConnectionResult::failed_at_start(
            workload.clock,
            id,
            &error,
        ));
    }
    results.sort_by_key(|r| r.id);
    results
}
// ANCHOR_END: fan_out

/// This step's one fan-out, as the binary and `compare` run it.
pub fn variants() -> Vec<Variant> {
    vec![Variant {
        step: env!("CARGO_PKG_NAME"),
        variant: "callbacks",
        about: "Every connection a chain of callbacks on one event loop",
        fan_out: |w| fan_out(w).into(),
        cannot_run: testbed::variants::always,
    }]
}
