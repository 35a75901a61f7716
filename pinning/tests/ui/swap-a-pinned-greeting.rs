// A `Pinned` greeting, pinned and polled once, then swapped with another, as the unpinned one
// was: refused. `Pin<&mut T>` hands out `&mut T` (its `DerefMut`) only when `T: Unpin`, and
// `PhantomPinned` is not.
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};

use pinning::greeting::Pinned;

fn main() {
    let mut cx = Context::from_waker(Waker::noop());
    let mut first = pin!(Pinned::new());
    let _ = first.as_mut().poll(&mut cx);
    let mut second = Pinned::new();
    std::mem::swap(&mut *first, &mut second);
}
