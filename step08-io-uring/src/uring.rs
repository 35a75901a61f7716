//! The machinery of this step: the ring (what the executor sleeps in), the one leaf future
//! `Op`, and TCP, timers and signals on them. The executor is step 5's, unchanged.

pub mod net;
pub mod op;
pub mod pool;
pub mod ring;
pub mod signal;
pub mod time;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use ring::Ring;

// ANCHOR: block_on
/// Runs `future` to completion on this thread, on step 5's executor, with `ring` as what it
/// sleeps in (installed on the thread for the sockets and timers while it runs).
pub fn block_on_ring<F: Future>(ring: &Rc<RefCell<Ring>>, future: F) -> F::Output {
    let _entered = Ring::enter(Rc::clone(ring));
    step05_futures::executor::block_on_driven(ring, future)
}
// ANCHOR_END: block_on

/// [`block_on_ring`] on a new ring of the default size. Panics where io_uring is not allowed
/// (see [`crate::unavailable`]: the binary checks first).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let ring = Ring::new(ring::DEFAULT_ENTRIES).expect("create the io_uring ring");
    block_on_ring(&Rc::new(RefCell::new(ring)), future)
}
