//! A future that points into itself: the smallest example of what the compiler generates for
//! an `async fn` that keeps a reference across an `.await`, written by hand.
#![allow(unsafe_code)]

use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

// ANCHOR: greeting
/// Writes a greeting into its own buffer, in two polls: `hello ` on the first, then `world`
/// where the first stopped, found through `cursor`, a pointer into `buf` kept between the two
/// polls. `P` decides whether the type may move once polled: `()` leaves it `Unpin`, as every
/// type whose fields are all `Unpin` is (the bug); `PhantomPinned` makes it `!Unpin` (the fix).
pub struct Greeting<P> {
    /// What the future writes, and reads back when it is done.
    pub buf: [u8; 11],
    /// Where the second poll writes: into `buf`, set by the first poll (null before).
    pub cursor: *mut u8,
    /// The marker: `()` or `PhantomPinned`.
    _pin: P,
}

/// The greeting without a marker: `Unpin`, so safe code may move it between polls.
pub type Unpinned = Greeting<()>;
/// The greeting with `PhantomPinned`: once pinned, it cannot be moved by safe code.
pub type Pinned = Greeting<PhantomPinned>;

impl<P> Future for Greeting<P> {
    type Output = String;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<String> {
        // SAFETY: we never move the value out of the `Pin`; we only write into it. But the
        // pointer we keep in it between polls stays right only if the value does not move
        // between polls either. `Pin` promises that for `Pinned` (it is `!Unpin`, so safe code
        // cannot get a `&mut` to move it once it is pinned), and for `Unpinned` it promises
        // nothing: this block is sound for the one and not for the other.
        let this = unsafe { self.get_unchecked_mut() };
        if this.cursor.is_null() {
            this.buf[..6].copy_from_slice(b"hello ");
            this.cursor = this.buf[6..].as_mut_ptr();
            cx.waker().wake_by_ref(); // ready to go on at once: poll me again
            return Poll::Pending;
        }
        // SAFETY: `cursor` points at `buf[6]`, with 5 bytes after it, if the value has not
        // moved since the first poll: see above.
        unsafe { std::ptr::copy_nonoverlapping(b"world".as_ptr(), this.cursor, 5) };
        Poll::Ready(String::from_utf8_lossy(&this.buf).into_owned())
    }
}
// ANCHOR_END: greeting

impl<P: Default> Greeting<P> {
    /// A greeting not yet polled.
    pub fn new() -> Greeting<P> {
        Greeting {
            buf: [0; 11],
            cursor: std::ptr::null_mut(),
            _pin: P::default(),
        }
    }
}

impl<P: Default> Default for Greeting<P> {
    fn default() -> Greeting<P> {
        Greeting::new()
    }
}

impl<P> Greeting<P> {
    /// Where `buf` is now.
    pub fn buf_address(&self) -> usize {
        self.buf.as_ptr() as usize
    }
}
