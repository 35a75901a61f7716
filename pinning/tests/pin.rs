//! The greeting, moved and not: unpinned and moved between polls, it writes into the place it
//! left; pinned on the stack or in a box, it is whole; projected through `Counted`, too. And
//! the table's sizes and `Unpin` answers are right.

use std::future::Future as _;
use std::marker::PhantomPinned;

use pinning::greeting::Pinned;
use pinning::moved::{move_unpinned_after_first_poll, pinned_in_a_box, pinned_on_the_stack};
use pinning::project::Counted;
use pinning::sizes::table;
use pinning::unpin;

/// **Undefined behaviour, on purpose** (the lesson): an `Unpinned` greeting, moved after its
/// first poll, writes `world` through its stale pointer into the place it left, where another
/// greeting now lives, and returns `hello` with nothing after it. What this test sees is what
/// an unoptimised build does; Miri, which CI runs on the same function (`cargo +nightly miri
/// run -p pinning -- unpinned`), stops at the write instead. Not run under Miri.
#[test]
#[cfg_attr(miri, ignore)]
fn an_unpinned_greeting_moved_between_polls_writes_into_the_old_place() {
    let moved = move_unpinned_after_first_poll();
    assert_ne!(moved.buf_after, moved.buf_before, "it moved");
    assert_eq!(
        moved.cursor,
        moved.buf_before + 6,
        "its cursor still points into the old place"
    );
    assert_eq!(
        moved.output, "hello \0\0\0\0\0",
        "the moved greeting lost its second half"
    );
    assert_eq!(
        moved.left_behind, "\0\0\0\0\0\0world",
        "the greeting in the old place got it, though nobody polled it"
    );
}

/// Pinned with `pin!` or `Box::pin`, the greeting cannot move between polls, and is whole; in
/// a box, its buffer is at the same address at every poll, though the box itself moved.
#[test]
fn a_pinned_greeting_is_whole_on_the_stack_and_in_a_box() {
    assert_eq!(pinned_on_the_stack(), "hello world");
    let (greeting, addresses) = pinned_in_a_box();
    assert_eq!(greeting, "hello world");
    assert_eq!(addresses.len(), 2, "two polls");
    assert_eq!(addresses[0], addresses[1], "the buffer stayed put");
}

/// `Counted` reaches its pinned field through the projection, and counts the polls.
#[test]
fn counted_projects_its_pinned_field() {
    let mut counted = std::pin::pin!(Counted::new(Pinned::new()));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let output = loop {
        if let std::task::Poll::Ready(output) = counted.as_mut().poll(&mut cx) {
            break output;
        }
    };
    assert_eq!(output, ("hello world".to_string(), 2));
}

/// The `Unpin` probe answers right on types whose answer is known, and the table says what the
/// chapter says: the greeting is `Unpin` only without the marker, `Counted<F>` is `Unpin`
/// exactly when `F` is, every `async fn`'s future is `!Unpin`, and only the one that keeps a
/// reference across its `.await` keeps the 256-byte buffer.
#[test]
fn the_table_is_right() {
    assert!(unpin!(7u8));
    assert!(unpin!(String::new()));
    assert!(!unpin!(PhantomPinned));
    let rows = table();
    let row = |name: &str| {
        rows.iter()
            .find(|row| row.future == name)
            .unwrap_or_else(|| panic!("a row for {name}"))
            .clone()
    };
    assert!(row("Unpinned (Greeting<()>)").unpin);
    assert!(!row("Pinned (Greeting<PhantomPinned>)").unpin);
    assert!(!row("Counted<Pinned>").unpin);
    assert!(row("Counted<Ready<u8>>").unpin);
    assert!(!row("holds_a_reference()").unpin);
    assert!(!row("holds_a_copy()").unpin);
    assert!(row("holds_a_reference()").size >= 256 + 8);
    assert!(row("holds_a_copy()").size < 16);
}
