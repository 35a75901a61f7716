//! The fan-out with one OS thread per connection.

use std::thread;

use testbed::{ConnectionResult, FetchError, Workload};

use crate::fetch::fetch;

/// The stack we give each connection's thread: 64 KiB, a thirty-second of the 2 MiB Rust gives
/// a spawned thread by default. `fetch` needs a few KiB (its 8 KiB read buffer is the largest
/// thing on it), and the kernel only backs the pages a thread really touches with memory, so
/// a smaller stack mostly saves address space, not RAM (chapter 1 measures both).
pub const STACK_SIZE: usize = 64 * 1024;

// ANCHOR: threads
/// Runs every connection on its own thread, all at once, and waits for them all. Each thread
/// blocks in its own `connect` and `read`; the kernel runs whichever can proceed. A thread that
/// cannot be created (out of memory, or over the system's thread limit) becomes that
/// connection's failure; the others go on.
pub fn threads(workload: &Workload, stack_size: usize) -> Vec<ConnectionResult> {
    // Scoped threads may borrow `workload`: the scope does not end before every thread has.
    thread::scope(|scope| {
        let spawned: Vec<_> = (0..workload.len())
            .map(|id| {
                thread::Builder::new()
                    .name(format!("conn-{id}"))
                    .stack_size(stack_size)
                    .spawn_scoped(scope, move || fetch(workload, id))
                    .map_err(|e| {
                        let why = FetchError::Setup(format!("cannot spawn a thread: {e}"));
                        ConnectionResult::failed_at_start(workload.clock, id, &why)
                    })
            })
            .collect();
        spawned
            .into_iter()
            .enumerate()
            .map(|(id, thread)| match thread {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    let why = FetchError::Setup("the connection's thread panicked".into());
                    ConnectionResult::failed_at_start(workload.clock, id, &why)
                }),
                Err(failed) => failed,
            })
            .collect()
    })
}
// ANCHOR_END: threads
