//! The greeting moved between its two polls, unpinned and pinned.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use crate::greeting::{Pinned, Unpinned};

/// What happened to a greeting moved after its first poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Where its buffer was during the first poll.
    pub buf_before: usize,
    /// Where its buffer was during the second poll, after the move.
    pub buf_after: usize,
    /// Where its `cursor` pointed during the second poll.
    pub cursor: usize,
    /// What the moved greeting returned.
    pub output: String,
    /// What the greeting that took its old place holds, though nobody polled it.
    pub left_behind: String,
}

/// A context whose waker does nothing: these futures are polled by hand, and the first poll
/// of a greeting asks to be polled again at once.
fn cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

// ANCHOR: move_unpinned
/// Polls an `Unpinned` greeting once, moves it (`mem::swap` with a fresh one: safe code, since
/// it is `Unpin`), and polls it again. **Undefined behaviour, on purpose**: the second poll
/// writes through a pointer into the place the greeting left. Run normally, the bytes land in
/// the other greeting; under Miri, the run stops at that write.
pub fn move_unpinned_after_first_poll() -> Moved {
    let mut cx = cx();
    let mut first = Unpinned::new();
    let mut second = Unpinned::new();
    assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
    let buf_before = first.buf_address();
    std::mem::swap(&mut first, &mut second); // the polled greeting is now `second`
    let cursor = second.cursor as usize;
    let Poll::Ready(output) = Pin::new(&mut second).poll(&mut cx) else {
        unreachable!("the second poll finishes")
    };
    Moved {
        buf_before,
        buf_after: second.buf_address(),
        cursor,
        output,
        left_behind: String::from_utf8_lossy(&first.buf).into_owned(),
    }
}
// ANCHOR_END: move_unpinned

// ANCHOR: pinned
/// A `Pinned` greeting, pinned on the stack with `pin!` and polled to the end: it cannot be
/// moved between the polls (`tests/ui/swap-a-pinned-greeting.rs` tries).
pub fn pinned_on_the_stack() -> String {
    let mut cx = cx();
    let mut greeting = pin!(Pinned::new());
    loop {
        if let Poll::Ready(greeting) = greeting.as_mut().poll(&mut cx) {
            return greeting;
        }
    }
}

/// The same, pinned on the heap with `Box::pin`: the *box* may move between polls (it is only
/// a pointer), the greeting inside does not. Returns the greeting, and where its buffer was at
/// each poll.
pub fn pinned_in_a_box() -> (String, Vec<usize>) {
    let mut cx = cx();
    let mut greeting: Pin<Box<Pinned>> = Box::pin(Pinned::new());
    let mut addresses = Vec::new();
    loop {
        addresses.push(greeting.buf_address());
        if let Poll::Ready(output) = greeting.as_mut().poll(&mut cx) {
            return (output, addresses);
        }
        // The box moves into a vector and out again; what it points to stays put.
        let mut boxes = vec![greeting];
        greeting = boxes.pop().expect("just pushed");
    }
}
// ANCHOR_END: pinned

/// A greeting's bytes as text, with each zero byte shown as `·`.
pub fn shown(text: &str) -> String {
    text.replace('\0', "·")
}
