//! The event the graceful echo server uses as its cancellation token: a wait that ends or is
//! dropped takes its waker out (so a server that has served a million connections does not
//! keep a million wakers), and `set` wakes every wait still registered.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Wake, Waker};

use step09_work_stealing::sync::Event;

/// Counts its wakes.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_dropped_wait_takes_its_waker_out_and_set_wakes_the_rest() {
    let event = Event::new();
    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&count));
    let mut cx = Context::from_waker(&waker);
    {
        let mut gone = pin!(event.wait());
        assert!(gone.as_mut().poll(&mut cx).is_pending());
        // Polled again: the same place, not a second one.
        assert!(gone.as_mut().poll(&mut cx).is_pending());
        assert_eq!(event.waiting(), 1);
    }
    assert_eq!(event.waiting(), 0, "dropped: its waker is out");
    let mut stays = pin!(event.wait());
    assert!(stays.as_mut().poll(&mut cx).is_pending());
    assert_eq!(event.waiting(), 1);
    event.set();
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        1,
        "the registered wait was woken"
    );
    assert!(stays.as_mut().poll(&mut cx).is_ready());
    assert_eq!(event.waiting(), 0);
}
