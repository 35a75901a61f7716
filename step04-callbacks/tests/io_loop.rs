//! The event loop's promises: timers fire in deadline order, a handler removed during a
//! dispatch round is never called again, callbacks can stop the loop, and `run` returns by
//! itself when nothing is left to wait for.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

use mio::Interest;
use mio::net::UnixStream;
use step04_callbacks::IoLoop;

/// Timers set in any order fire in the order of their deadlines; equal deadlines in the order
/// they were set; a cancelled timer never fires.
#[test]
fn timers_fire_in_deadline_order() {
    let io_loop = IoLoop::new().unwrap();
    let fired = Rc::new(RefCell::new(Vec::new()));
    for (name, ms) in [
        ("30a", 30),
        ("10", 10),
        ("30b", 30),
        ("0", 0),
        ("20", 20),
        ("cancelled", 5),
    ] {
        let fired = Rc::clone(&fired);
        let timer = io_loop.call_later(Duration::from_millis(ms), move |_| {
            fired.borrow_mut().push(name)
        });
        if name == "cancelled" {
            assert!(io_loop.cancel_timer(timer));
        }
    }
    let started = Instant::now();
    io_loop.run().unwrap();
    assert_eq!(*fired.borrow(), ["0", "10", "20", "30a", "30b"]);
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "the last timer fired before its deadline"
    );
}

/// Two sources ready in the same round: whichever runs first removes the other, which is then
/// never called, in this round or later.
#[test]
fn a_handler_removed_during_dispatch_is_never_called() {
    let io_loop = IoLoop::new().unwrap();
    let calls = Rc::new(RefCell::new(Vec::new()));
    let tokens = Rc::new(RefCell::new(Vec::new()));
    let mut peers = Vec::new();
    for name in ["a", "b"] {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        theirs.write_all(b"x").unwrap(); // both readable before the loop starts
        peers.push(theirs);
        let (calls, all_tokens) = (Rc::clone(&calls), Rc::clone(&tokens));
        let token = io_loop
            .add_handler(ours, Interest::READABLE, move |io_loop, _stream, ready| {
                calls.borrow_mut().push(name);
                // Remove every handler, this one included.
                for token in all_tokens.borrow().iter() {
                    io_loop.remove_handler(*token);
                }
                assert_eq!(io_loop.handler_count(), 0);
                let _ = ready;
            })
            .unwrap();
        tokens.borrow_mut().push(token);
    }
    io_loop.run().unwrap();
    assert_eq!(
        calls.borrow().len(),
        1,
        "only the first handler of the round ran: {:?}",
        calls.borrow()
    );
}

/// `stop` from a callback ends `run`, even with handlers still registered; `call_soon`
/// callbacks run in order.
#[test]
fn callbacks_can_stop_the_loop() {
    let io_loop = IoLoop::new().unwrap();
    let (ours, _theirs) = UnixStream::pair().unwrap();
    io_loop
        .add_handler(ours, Interest::READABLE, |_, _, _| {})
        .unwrap();
    let order = Rc::new(RefCell::new(Vec::new()));
    for n in 0..3 {
        let order = Rc::clone(&order);
        io_loop.call_soon(move |_| order.borrow_mut().push(n));
    }
    io_loop.call_later(Duration::from_millis(5), |io_loop| io_loop.stop());
    io_loop.run().unwrap();
    assert_eq!(*order.borrow(), [0, 1, 2]);
    assert_eq!(
        io_loop.handler_count(),
        1,
        "stop leaves the handlers in place"
    );
}

/// With nothing registered, `run` returns at once instead of waiting forever.
#[test]
fn an_empty_loop_returns() {
    IoLoop::new().unwrap().run().unwrap();
}

/// A source handed back with `take_handler` is the same, still open, socket.
#[test]
fn a_handler_gives_its_source_back() {
    let io_loop = IoLoop::new().unwrap();
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    let token = io_loop
        .add_handler(ours, Interest::READABLE, |_, _, _| {})
        .unwrap();
    let mut back: UnixStream = io_loop
        .take_handler(token)
        .expect("the same type comes back");
    assert_eq!(io_loop.handler_count(), 0);
    theirs.write_all(b"still open").unwrap();
    let mut buf = [0u8; 16];
    let n = std::io::Read::read(&mut back, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"still open");
}
