//! `Op<T>`: the one leaf future of this step. Every operation (connect, send, receive, accept,
//! a timer) is started on the ring with what the kernel may use, `T`, moved into the ring's
//! slot; the future waits for the completion and hands back the result with `T`.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use io_uring::squeue;

use crate::uring::ring::{OpId, Ring};

// ANCHOR: op
/// An operation in flight on the current ring. Ready with the kernel's result (a count, or an
/// error) and `T`, everything the operation was given, back from the ring. Dropped before it is
/// ready, it orphans its slot: the ring keeps `T` until the kernel is done with it.
pub struct Op<T: 'static> {
    /// The ring it runs on.
    ring: Rc<RefCell<Ring>>,
    /// Its slot there; `None` once the result is taken.
    id: Option<OpId>,
    _kept: PhantomData<fn() -> T>,
}

impl<T: 'static> Op<T> {
    /// Starts `entry` on the current ring, with `keep` moved into the ring's slot. `entry` is
    /// made by `build` from a reference to `keep` in its final place (so pointers into it stay
    /// valid).
    ///
    /// # Safety
    ///
    /// Every pointer in the entry `build` returns must point into the heap memory `keep` owns
    /// (or into memory that lives at least as long): the ring keeps `keep` until the operation
    /// completes, and moving `keep` does not move that memory.
    pub unsafe fn start(
        keep: T,
        build: impl FnOnce(&mut T) -> squeue::Entry,
    ) -> Result<Op<T>, (io::Error, T)> {
        let Some(ring) = Ring::try_current() else {
            let none = io::Error::other(
                "no ring on this thread: start operations inside step08_io_uring::block_on",
            );
            return Err((none, keep));
        };
        let mut keep = Box::new(keep);
        let entry = build(&mut keep);
        // SAFETY: passed on from our caller; `keep` is boxed, so its heap memory stays put.
        let started = unsafe { ring.borrow_mut().start(entry, keep) };
        match started {
            Ok(id) => Ok(Op {
                ring,
                id: Some(id),
                _kept: PhantomData,
            }),
            Err((e, keep)) => {
                let keep = *keep.downcast::<T>().expect("the same keep, handed back");
                Err((e, keep))
            }
        }
    }
}

impl<T: 'static> Op<T> {
    /// Tells the ring that this operation's result is a descriptor the kernel makes (an
    /// accept's connection), so that, if this future is dropped, the descriptor is closed
    /// instead of leaked.
    pub fn result_is_descriptor(self) -> Op<T> {
        if let Some(id) = self.id {
            self.ring.borrow_mut().result_is_descriptor(id);
        }
        self
    }

    /// The same operation, as a future that also gives the completion's flags (for example,
    /// which provided buffer a receive used: `io_uring::cqueue::buffer_select`).
    pub fn with_flags(self) -> WithFlags<T> {
        WithFlags(self)
    }

    /// Polls for the completion: the result, the flags and what the operation was given.
    fn poll_completion(&mut self, cx: &mut Context<'_>) -> Poll<(io::Result<u32>, u32, T)> {
        let id = self.id.expect("an Op is not polled after it is ready");
        let (result, flags, keep) = ready!(self.ring.borrow_mut().poll_op(id, cx));
        self.id = None;
        let keep = *keep
            .downcast::<T>()
            .expect("a slot keeps what its operation was given");
        // The kernel's convention: a count, or minus an errno.
        let result = u32::try_from(result).map_err(|_| io::Error::from_raw_os_error(-result));
        Poll::Ready((result, flags, keep))
    }
}

impl<T: 'static> Future for Op<T> {
    type Output = (io::Result<u32>, T);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_completion(cx)
            .map(|(result, _flags, keep)| (result, keep))
    }
}

/// [`Op`] whose output also carries the completion's flags (see [`Op::with_flags`]).
pub struct WithFlags<T: 'static>(Op<T>);

impl<T: 'static> Future for WithFlags<T> {
    type Output = (io::Result<u32>, u32, T);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.poll_completion(cx)
    }
}

impl<T: 'static> Drop for Op<T> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            // Cancelled: the ring keeps what the kernel may still use. A result that had
            // already arrived comes back, and is dropped here, outside the ring's borrow.
            let done = self.ring.borrow_mut().orphan(id);
            drop(done);
        }
    }
}
// ANCHOR_END: op

/// An operation that does nothing (`IORING_OP_NOP`): the cost of a trip through the ring
/// alone, for tests and benchmarks.
pub fn nop() -> io::Result<Op<()>> {
    // SAFETY: a no-op points to no memory.
    unsafe { Op::start((), |_| io_uring::opcode::Nop::new().build()) }.map_err(|(e, ())| e)
}
