//! An operation dropped after its completion arrived but before it was polled again is freed at
//! once: nothing is left for the kernel to do, and nothing is cancelled.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use step08_io_uring::uring::op::nop;
use step08_io_uring::uring::ring::Ring;
use step08_io_uring::uring::time::sleep;
use step08_io_uring::{block_on_ring, io_uring_here};

/// A no-op started, its completion reaped while its future waits unpolled, then dropped: the
/// slot goes at once, and nothing is cancelled.
#[test]
fn an_operation_dropped_after_its_completion_is_freed_at_once() {
    if !io_uring_here("an_operation_dropped_after_its_completion_is_freed_at_once") {
        return;
    }
    let ring = Rc::new(RefCell::new(Ring::new(8).unwrap()));
    let ring_inside = Rc::clone(&ring);
    block_on_ring(&ring, async move {
        let mut op = Box::pin(nop().expect("start a no-op"));
        // Poll it once, so that it waits with a waker...
        assert!(futures::poll!(op.as_mut()).is_pending());
        // ...and let the ring turn (a timer), so that its completion is reaped.
        sleep(Duration::from_millis(5)).await;
        assert_eq!(
            ring_inside.borrow().live_operations(),
            1,
            "done, not yet taken"
        );
        let cancelled = ring_inside.borrow().counts().orphaned;
        drop(op);
        assert_eq!(ring_inside.borrow().live_operations(), 0);
        assert_eq!(ring_inside.borrow().counts().orphaned, cancelled);
    });
}
