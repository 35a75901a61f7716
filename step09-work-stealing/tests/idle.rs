//! An idle runtime uses no CPU: its workers park (one in `epoll_wait`, the others on a
//! condition variable) instead of spinning. Alone in its test binary, so that the process's
//! CPU time is the runtime's.

use std::time::Duration;

use step09_work_stealing::Runtime;
use testbed::report::ResourceUsage;

/// Two workers, nothing to do, for one second: both parked, and less than 20 ms of CPU in all
/// (a worker that spun would burn the whole second; one that woke every millisecond to look
/// would burn tens of ms).
#[test]
fn an_idle_runtime_parks_and_burns_no_cpu() {
    let runtime = Runtime::new(2).unwrap();
    // Let the workers start and park.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(runtime.parked_workers(), 2, "both workers park when idle");
    let before = ResourceUsage::now();
    std::thread::sleep(Duration::from_secs(1));
    let after = ResourceUsage::now();
    let cpu_ms = (after.user_ms + after.sys_ms) - (before.user_ms + before.sys_ms);
    eprintln!("idle second: {cpu_ms:.2} ms of CPU");
    assert!(
        cpu_ms < 20.0,
        "an idle runtime used {cpu_ms:.1} ms of CPU in a second"
    );
    // And it still works after sleeping.
    assert_eq!(runtime.block_on(runtime.spawn(async { 42 })), 42);
}
