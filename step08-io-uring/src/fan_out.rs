//! The fan-out on the ring: step 6's, a task per connection on step 5's executor, with the
//! ring as what the executor sleeps in. The report adds the ring's counts: how many
//! `io_uring_enter` calls the whole run made, and how many entries and completions went
//! through them.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures::future::join_all;
use step05_futures::spawn;
use step06_async_await::sync::Semaphore;
use testbed::variants::Plan;
use testbed::{ConnectionRecord, ConnectionResult, Outcome, Variant, Workload};

use crate::fetch::{Buffers, fetch};
use crate::uring::block_on_ring;
use crate::uring::pool::{BUFFER_SIZE, DEFAULT_BUFFERS};
use crate::uring::ring::{Counts, DEFAULT_ENTRIES, Ring};

/// How to run the fan-out.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// At most this many connections in flight (a semaphore); `None`: no limit.
    pub limit: Option<usize>,
    /// The submission queue's size. Smaller than the connections is fine: a full queue is
    /// handed to the kernel, and filled again.
    pub ring_entries: u32,
    /// Where responses are received: the ring's pool, or a buffer per connection.
    pub buffers: Buffers,
    /// How many buffers the ring's pool has (with [`Buffers::Pool`]). Fewer than the
    /// connections is the point: a buffer is taken only while a message is being read.
    pub pool_buffers: u16,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            limit: None,
            ring_entries: DEFAULT_ENTRIES,
            buffers: Buffers::Pool,
            pool_buffers: DEFAULT_BUFFERS,
        }
    }
}

/// What a fan-out returns: the results, and what the ring counted.
#[derive(Debug, Clone)]
pub struct FanOut {
    /// One result per connection, in id order.
    pub results: Vec<ConnectionResult>,
    /// The ring's counts for the whole run.
    pub counts: Counts,
    /// Operations still on the ring when the fan-out ended (0 unless something leaked).
    pub left_on_ring: usize,
}

impl From<FanOut> for Outcome {
    /// The report gets the results, and the ring's counts as fields of this step's own.
    fn from(fan_out: FanOut) -> Outcome {
        let mut outcome = Outcome::from(fan_out.results);
        let counts = fan_out.counts;
        for (name, value) in [
            ("io_uring_enter", counts.enters),
            ("entries_submitted", counts.submitted),
            ("completions", counts.completed),
            ("operations_cancelled", counts.orphaned),
            ("pool_ran_dry", counts.ran_dry),
        ] {
            outcome.extra.insert(name.into(), value.into());
        }
        outcome
    }
}

// ANCHOR: run
/// Every connection as a task of its own, at most `limit` at a time: step 6's `run`.
async fn run(workload: &Workload, limit: Option<usize>, buffers: Buffers) -> Vec<ConnectionResult> {
    let limit = limit.map(|permits| Rc::new(Semaphore::new(permits)));
    let (clock, deadline) = (workload.clock, workload.timeout);
    let tasks: Vec<_> = workload
        .targets
        .iter()
        .enumerate()
        .map(|(id, target)| {
            let (target, check, limit) = (target.clone(), workload.response_check(), limit.clone());
            spawn(async move {
                // Wait for a permit, if connections are limited; the connection starts after.
                let _permit = match &limit {
                    Some(semaphore) => Some(semaphore.acquire().await),
                    None => None,
                };
                let record = ConnectionRecord::start(clock, id, deadline);
                fetch(target, record, check, buffers).await
            })
        })
        .collect();
    join_all(tasks).await
}
// ANCHOR_END: run

/// Runs the fan-out on a ring of its own (with a pool of receive buffers, for
/// [`Buffers::Pool`]). Panics if the ring cannot be made (see [`crate::unavailable`]).
pub fn fan_out(workload: &Workload, options: Options) -> FanOut {
    let mut ring = Ring::new(options.ring_entries).expect("create the io_uring ring");
    if options.buffers == Buffers::Pool {
        ring.provide_buffers(options.pool_buffers, BUFFER_SIZE)
            .expect("give the kernel the ring's receive buffers");
    }
    let ring = Rc::new(RefCell::new(ring));
    let results = block_on_ring(&ring, run(workload, options.limit, options.buffers));
    // The runtime has ended, and every task with it. Whatever operation they left in flight
    // (orphaned by a task dropped half-way) completes now.
    let left_on_ring = ring.borrow_mut().settle(Duration::from_secs(5));
    let counts = ring.borrow().counts();
    FanOut {
        results,
        counts,
        left_on_ring,
    }
}

/// Why this machine cannot run the step, if it cannot (see [`crate::unavailable`]).
fn unavailable(_: &Plan) -> Option<String> {
    crate::unavailable()
}

/// This step's fan-out, as the binary and `compare` run it.
pub fn variants() -> Vec<Variant> {
    vec![
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "pool",
            about: "io_uring, receiving into a pool of buffers the kernel picks from",
            fan_out: |w| fan_out(w, Options::default()).into(),
            cannot_run: unavailable,
        },
        Variant {
            step: env!("CARGO_PKG_NAME"),
            variant: "owned",
            about: "io_uring, each connection receiving into a buffer of its own",
            fan_out: |w| {
                let options = Options {
                    buffers: Buffers::Owned,
                    ..Options::default()
                };
                fan_out(w, options).into()
            },
            cannot_run: unavailable,
        },
    ]
}
