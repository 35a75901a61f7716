//! The Pin chapter's exercises, solved and checked (CI also runs these under Miri).
#![allow(unsafe_code)]

use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use pinning::greeting::Pinned;

// ANCHOR: offset
/// Exercise 1: the greeting without a pointer. It keeps *where* the second half goes as an
/// offset into its buffer, which means the same thing wherever the buffer is: the future may
/// move between polls, and being `Unpin` (as it is, automatically) is the truth. No `unsafe`.
#[derive(Default)]
struct GreetingAtOffset {
    buf: [u8; 11],
    /// Where the second poll writes, once the first has run.
    next: Option<usize>,
}

impl Future for GreetingAtOffset {
    type Output = String;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<String> {
        let this = &mut *self; // `Unpin`: `Pin` hands out `&mut` freely
        match this.next {
            None => {
                this.buf[..6].copy_from_slice(b"hello ");
                this.next = Some(6);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(at) => {
                this.buf[at..].copy_from_slice(b"world");
                Poll::Ready(String::from_utf8_lossy(&this.buf).into_owned())
            }
        }
    }
}
// ANCHOR_END: offset

/// Moved between its polls exactly as the unpinned greeting is (`mem::swap`), it is whole.
#[test]
fn a_greeting_that_keeps_an_offset_may_move() {
    let mut cx = Context::from_waker(Waker::noop());
    let mut first = GreetingAtOffset::default();
    let mut second = GreetingAtOffset::default();
    assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
    std::mem::swap(&mut first, &mut second);
    assert_eq!(
        Pin::new(&mut second).poll(&mut cx),
        Poll::Ready("hello world".to_string())
    );
    assert_eq!(first.buf, [0; 11], "nothing written into the old place");
}

// ANCHOR: by_hand
/// Exercise 2: `Counted` without `pin-project-lite`, projected by hand.
struct CountedByHand<F> {
    inner: F,
    polls: u32,
}

impl<F: Future> Future for CountedByHand<F> {
    type Output = (F::Output, u32);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: we never move out of `this`, and we treat `inner` as pinned for as long as
        // `self` is: it is only ever reached as `Pin<&mut F>` (below), never moved or
        // replaced, and nothing else of this type moves it either: no `Drop` impl, no method
        // that takes `self: Pin<&mut Self>` and hands out `&mut F`, no `Unpin` impl of our own
        // (the automatic one says `CountedByHand<F>: Unpin` only when `F: Unpin`), and no
        // `#[repr(packed)]`, which could move fields to align them. `polls` is not pinned: a
        // plain `&mut u32`.
        let this = unsafe { self.get_unchecked_mut() };
        this.polls += 1;
        // SAFETY: `inner` is pinned because `self` is, as promised above.
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        match inner.poll(cx) {
            Poll::Ready(output) => Poll::Ready((output, this.polls)),
            Poll::Pending => Poll::Pending,
        }
    }
}
// ANCHOR_END: by_hand

/// Projected by hand, the pinned greeting inside is whole (and Miri, in CI, finds nothing
/// wrong with the two `unsafe` blocks).
#[test]
fn counted_by_hand_projects_as_the_macro_does() {
    let mut counted = std::pin::pin!(CountedByHand {
        inner: Pinned::new(),
        polls: 0,
    });
    let mut cx = Context::from_waker(Waker::noop());
    let output = loop {
        if let Poll::Ready(output) = counted.as_mut().poll(&mut cx) {
            break output;
        }
    };
    assert_eq!(output, ("hello world".to_string(), 2));
    // The automatic `Unpin` follows the field: a pinned greeting inside makes it `!Unpin`,
    // a number inside leaves it `Unpin`.
    let pinned_inside = CountedByHand {
        inner: Pinned::new(),
        polls: 0,
    };
    let ready_inside = CountedByHand {
        inner: std::future::ready(7u8),
        polls: 0,
    };
    assert!(!pinning::unpin!(pinned_inside));
    assert!(pinning::unpin!(ready_inside));
}

/// `PhantomPinned` is what makes the difference, checked the same way.
#[test]
fn phantom_pinned_is_not_unpin() {
    assert!(!pinning::unpin!(PhantomPinned));
}
