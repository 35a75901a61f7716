//! What an OS thread costs in memory, measured: the address space reserved for its stack, and
//! the part of it that is really in RAM.
//!
//! Spawning a thread reserves its whole stack as virtual memory (plus a guard page), but the
//! kernel only gives it physical pages as the thread touches them. So the reserved size grows
//! with the stack size we ask for, while the resident size grows with what the thread does.
//! Both are read from `/proc/self/status` (Linux) while the threads are alive and parked.

use std::hint::black_box;
use std::io;
use std::sync::{Condvar, Mutex};
use std::thread;

use testbed::report::proc_status_kib;

/// Memory per thread, measured with `threads` threads alive at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThreadCost {
    /// How many threads were alive when memory was read.
    pub threads: usize,
    /// The stack size each was given, in KiB.
    pub stack_kib: usize,
    /// How much stack each thread touched, in KiB (what a thread "uses").
    pub touched_kib: usize,
    /// Growth of the process's address space (VmSize) per thread, in KiB.
    pub virtual_kib_per_thread: f64,
    /// Growth of the process's resident memory (VmRSS) per thread, in KiB.
    pub resident_kib_per_thread: f64,
}

/// Uses about `kib` KiB of the current thread's stack, so that those pages become resident.
fn touch_stack(kib: usize) {
    let mut page = [0u8; 1024];
    black_box(&mut page);
    if kib > 1 {
        touch_stack(kib - 1);
    }
    // Using the page after the call keeps the compiler from reusing this frame for the next.
    black_box(&page);
}

/// Where the measuring threads check in and then wait until they are released: a mutex and a
/// condition variable, so that the threads' own work allocates nothing. (The C library may
/// still give each new thread a `malloc` arena: a fixed reserve of address space, shared out
/// over all the threads, that the chapter explains.)
#[derive(Default)]
struct Gate {
    /// (threads checked in, released)
    state: Mutex<(usize, bool)>,
    /// Signalled on every check-in and on release.
    changed: Condvar,
}

impl Gate {
    /// Called by each thread: check in, then wait for the release.
    fn check_in_and_wait(&self) {
        let mut state = testbed::lock(&self.state);
        state.0 += 1;
        self.changed.notify_all();
        while !state.1 {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits until `n` threads have checked in.
    fn wait_for(&self, n: usize) {
        let mut state = testbed::lock(&self.state);
        while state.0 < n {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Lets every thread go.
    fn release(&self) {
        testbed::lock(&self.state).1 = true;
        self.changed.notify_all();
    }
}

/// Spawns `threads` threads with `stack_kib` KiB stacks, lets each touch `touched_kib` KiB of
/// it, and measures the process's memory while all are alive.
///
/// Measure one stack size per process: the C library keeps the stacks of finished threads for
/// reuse, so a second measurement in the same process would find memory already there.
pub fn measure(threads: usize, stack_kib: usize, touched_kib: usize) -> io::Result<ThreadCost> {
    let (virtual_before, resident_before) = (proc_status_kib("VmSize")?, proc_status_kib("VmRSS")?);
    let gate = Gate::default();
    let measured = thread::scope(|scope| -> io::Result<(u64, u64)> {
        for i in 0..threads {
            let gate = &gate;
            let spawned = thread::Builder::new()
                .name(format!("cost-{i}"))
                .stack_size(stack_kib * 1024)
                .spawn_scoped(scope, move || {
                    touch_stack(touched_kib);
                    gate.check_in_and_wait();
                });
            if let Err(e) = spawned {
                // Let the threads already running finish, so the scope can end.
                gate.release();
                return Err(e);
            }
        }
        gate.wait_for(threads);
        let measured = (proc_status_kib("VmSize"), proc_status_kib("VmRSS"));
        gate.release();
        Ok((measured.0?, measured.1?))
    })?;
    let per_thread = |after: u64, before: u64| after.saturating_sub(before) as f64 / threads as f64;
    Ok(ThreadCost {
        threads,
        stack_kib,
        touched_kib,
        virtual_kib_per_thread: per_thread(measured.0, virtual_before),
        resident_kib_per_thread: per_thread(measured.1, resident_before),
    })
}
