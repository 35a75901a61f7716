//! The cancel safety our runtime's primitives document, checked where no other test does:
//! `Event::wait` cut by a timeout misses nothing of a later `set`; awaiting `&mut JoinHandle`
//! under a timeout that fires leaves the output in the handle. (`read`: `lines.rs`; `acquire`
//! and `lock`: `queue.rs` here and step 6's `tests/sync.rs`; `write_all`, documented as not
//! cancel safe: `write_all.rs`.)

use std::rc::Rc;
use std::time::Duration;

use step05_futures::spawn;
use step05_futures::time::sleep;
use step06_async_await::sync::Event;
use step06_async_await::timeout::timeout;

#[test]
fn an_event_wait_cut_short_misses_nothing() {
    let seen = step05_futures::block_on(async {
        let event = Rc::new(Event::new());
        let cut = timeout(Duration::from_millis(5), event.wait())
            .await
            .is_err();
        assert!(cut, "nobody had set it yet");
        let setter = {
            let event = Rc::clone(&event);
            spawn(async move {
                sleep(Duration::from_millis(5)).await;
                event.set();
            })
        };
        // Cut again while the setter sleeps, then wait for good: the set is seen.
        let _ = timeout(Duration::from_millis(1), event.wait()).await;
        event.wait().await;
        setter.await;
        event.is_set()
    });
    assert!(seen);
}

#[test]
fn awaiting_a_handle_by_reference_keeps_its_output() {
    let output = step05_futures::block_on(async {
        let mut handle = spawn(async {
            sleep(Duration::from_millis(20)).await;
            42
        });
        let cut = timeout(Duration::from_millis(5), &mut handle)
            .await
            .is_err();
        assert!(cut, "the task was still sleeping");
        handle.await // the output waited in the handle
    });
    assert_eq!(output, 42);
}
