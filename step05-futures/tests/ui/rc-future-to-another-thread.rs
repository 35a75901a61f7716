// Our runtime runs a future on the thread that calls `block_on`, so a future may hold an `Rc`.
// Sending it to another thread to run it there is another matter: `Rc`'s count is not atomic,
// so a value holding one is not `Send`, and `std::thread::spawn` requires `Send`.
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

struct HoldsRc(Rc<u32>);

impl Future for HoldsRc {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u32> {
        Poll::Ready(*self.0)
    }
}

fn main() {
    let future = HoldsRc(Rc::new(7));
    let worker = std::thread::spawn(move || step05_futures::block_on(future));
    println!("{}", worker.join().unwrap());
}
