//! The green-thread cost measurement measures something real: each green thread reserves at
//! least its stack in address space, and the stack it touched is resident.

use step07_green_threads::green_cost::measure;

/// 100 green threads with 256 KiB stacks, each touching 32 KiB.
#[test]
fn reserved_and_resident_memory_per_green_thread() {
    let cost = measure(100, 256, 32).expect("measure on Linux");
    assert!(cost.virtual_kib_per_green_thread >= 256.0, "{cost:?}");
    assert!(cost.resident_kib_per_green_thread >= 32.0 * 0.9, "{cost:?}");
    assert!(
        cost.resident_kib_per_green_thread < cost.virtual_kib_per_green_thread,
        "{cost:?}"
    );
}
