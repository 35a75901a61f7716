//! A timer dropped after its completion arrived but before it was polled again is freed at
//! once: nothing is left for the kernel to do, and nothing is cancelled.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use step08_io_uring::uring::ring::Ring;
use step08_io_uring::uring::time::sleep;
use step08_io_uring::{block_on_ring, io_uring_here};

/// A timer dropped after its completion arrived but before it was polled again: the slot goes
/// at once (there is nothing left for the kernel to do), and nothing is cancelled.
#[test]
fn an_operation_dropped_after_its_completion_is_freed_at_once() {
    if !io_uring_here("an_operation_dropped_after_its_completion_is_freed_at_once") {
        return;
    }
    let ring = Rc::new(RefCell::new(Ring::new(8).unwrap()));
    let ring_inside = Rc::clone(&ring);
    block_on_ring(&ring, async move {
        let mut short = Box::pin(sleep(Duration::from_millis(1)));
        // Poll it once, so that its operation starts...
        assert!(futures::poll!(short.as_mut()).is_pending());
        // ...and wait long enough, on another timer, for its completion to be reaped.
        sleep(Duration::from_millis(30)).await;
        let cancelled = ring_inside.borrow().counts().orphaned;
        drop(short);
        assert_eq!(ring_inside.borrow().live_operations(), 0);
        assert_eq!(ring_inside.borrow().counts().orphaned, cancelled);
    });
}
