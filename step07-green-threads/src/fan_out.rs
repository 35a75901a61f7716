//! The fan-out: one green thread per connection, each running step 1's blocking `fetch`.

use std::rc::Rc;

use testbed::{ConnectionResult, FetchError, Variant, Workload};

use crate::fetch::fetch;
use crate::hub::{self, JoinHandle};
use crate::sync::Pool;

/// How to run the fan-out.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// At most this many connections in flight (a [`Pool`]); `None`: no limit.
    pub limit: Option<usize>,
    /// Each green thread's stack, in bytes.
    pub stack_size: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            limit: None,
            stack_size: hub::STACK_SIZE,
        }
    }
}

// ANCHOR: fan_out
/// Runs every connection on a green thread of its own, and waits for them all. This is step
/// 1's `threads` with its scoped `spawn` replaced by a green `spawn`: each green thread runs
/// `fetch` from top to bottom, blocking in `connect` and `read`, and the hub runs whichever can
/// proceed. A green thread that cannot be created, or that panics, becomes its connection's
/// failure; the others go on.
pub fn fan_out(workload: &Workload, options: Options) -> Vec<ConnectionResult> {
    // The green threads' closures must own what they use ('static, as for thread::spawn),
    // so they share the workload through an Rc.
    let workload = Rc::new(workload.clone());
    hub::run_with_stack(options.stack_size, move || {
        let pool = options.limit.map(Pool::new);
        let spawned: Vec<_> = (0..workload.len())
            .map(|id| {
                let shared = Rc::clone(&workload);
                let work = move || fetch(&shared, id);
                match &pool {
                    Some(pool) => pool.try_spawn(work), // blocks while `limit` are running
                    None => hub::try_spawn(work),
                }
            })
            .collect();
        spawned
            .into_iter()
            .enumerate()
            .map(|(id, spawned)| finish(&workload, id, spawned))
            .collect()
    })
}
// ANCHOR_END: fan_out

/// Connection `id`'s result: what its green thread returned, or why there was none.
fn finish(
    workload: &Workload,
    id: usize,
    spawned: std::io::Result<JoinHandle<ConnectionResult>>,
) -> ConnectionResult {
    let why = match spawned.map(JoinHandle::join) {
        Ok(Ok(result)) => return result,
        Ok(Err(_panic)) => FetchError::Setup("the connection's green thread panicked".into()),
        Err(e) => FetchError::Setup(format!("cannot create a green thread: {e}")),
    };
    ConnectionResult::failed_at_start(workload.clock, id, &why)
}

/// This step's one fan-out, as the binary and `compare` run it: no limit, the default stack.
pub fn variants() -> Vec<Variant> {
    vec![Variant {
        step: env!("CARGO_PKG_NAME"),
        variant: "green",
        about: "One green thread per connection",
        fan_out: |w| fan_out(w, Options::default()).into(),
        cannot_run: testbed::variants::always,
    }]
}
