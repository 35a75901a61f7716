// A future that must not move once polled (`PhantomPinned` makes it !Unpin, like most futures
// the compiler writes for `async fn`) cannot be polled through `Pin::new(&mut future)`: that
// would let it move afterwards. It has to be pinned first: `Box::pin(future)`, or
// `std::pin::pin!(future)` on the stack.
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

struct StaysPut {
    _pinned: PhantomPinned,
}

impl Future for StaysPut {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

fn main() {
    let mut future = StaysPut { _pinned: PhantomPinned };
    let mut cx = Context::from_waker(Waker::noop());
    let _ = Pin::new(&mut future).poll(&mut cx);
}
