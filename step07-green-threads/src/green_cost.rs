//! What a green thread costs in memory, measured as step 1 measures a thread: many alive at
//! once, each having touched some of its stack, and the process's memory read meanwhile.
//!
//! A green thread's stack is an `mmap` of the size asked for plus a guard page, like a
//! thread's; the kernel backs only the pages touched. What a green thread does not have is the
//! rest of a thread: no kernel task, no thread-local storage block, no `malloc` arena.

use std::cell::Cell;
use std::hint::black_box;
use std::io;
use std::rc::Rc;

use testbed::report::proc_status_kib;

use crate::hub;
use crate::sync::Event;

/// Memory per green thread, measured with `green_threads` alive at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GreenCost {
    /// How many green threads were alive when memory was read.
    pub green_threads: usize,
    /// The stack size each was given, in KiB.
    pub stack_kib: usize,
    /// How much stack each touched, in KiB.
    pub touched_kib: usize,
    /// Growth of the process's address space (VmSize) per green thread, in KiB.
    pub virtual_kib_per_green_thread: f64,
    /// Growth of the process's resident memory (VmRSS) per green thread, in KiB.
    pub resident_kib_per_green_thread: f64,
}

/// Uses about `kib` KiB of the current stack, so that those pages become resident.
fn touch_stack(kib: usize) {
    let mut page = [0u8; 1024];
    black_box(&mut page);
    if kib > 1 {
        touch_stack(kib - 1);
    }
    black_box(&page);
}

/// Starts `green_threads` green threads with `stack_kib` KiB stacks, lets each touch
/// `touched_kib` KiB of it and wait on an event, and measures the process's memory while all
/// are alive. `touched_kib` must leave room for the frames around it (a few KiB).
pub fn measure(
    green_threads: usize,
    stack_kib: usize,
    touched_kib: usize,
) -> io::Result<GreenCost> {
    hub::run_with_stack(stack_kib * 1024, move || {
        let before = (proc_status_kib("VmSize")?, proc_status_kib("VmRSS")?);
        let (release, checked_in) = (Event::new(), Rc::new(Cell::new(0usize)));
        let mut handles = Vec::with_capacity(green_threads);
        for _ in 0..green_threads {
            let (release, checked_in) = (release.clone(), Rc::clone(&checked_in));
            handles.push(hub::try_spawn(move || {
                touch_stack(touched_kib);
                checked_in.set(checked_in.get() + 1);
                release.wait();
            })?);
        }
        // Let them all run up to their wait.
        while checked_in.get() < green_threads {
            hub::yield_now();
        }
        let after = (proc_status_kib("VmSize"), proc_status_kib("VmRSS"));
        release.set();
        hub::join_all(handles);
        let (after_virtual, after_resident) = (after.0?, after.1?);
        let per =
            |after: u64, before: u64| after.saturating_sub(before) as f64 / green_threads as f64;
        Ok(GreenCost {
            green_threads,
            stack_kib,
            touched_kib,
            virtual_kib_per_green_thread: per(after_virtual, before.0),
            resident_kib_per_green_thread: per(after_resident, before.1),
        })
    })
}
