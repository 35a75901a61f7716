//! A waker built by hand, the way runtimes did before `std::task::Wake` (and still do, to
//! avoid an `Arc`): a data pointer plus a table of four functions, `RawWakerVTable`.
//!
//! The runtime of this step uses the safe `Wake` trait instead ([`crate::executor`]). This
//! module exists to show what that trait does for us: it is the only `unsafe` code of the step,
//! every block says why it is sound, and its tests run under Miri
//! (`cargo +nightly miri test -p step05-futures --lib raw_waker`), which checks that every
//! pointer is used as the rules require.
#![allow(unsafe_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{RawWaker, RawWakerVTable, Waker};

// ANCHOR: raw_waker
/// The four functions of a waker whose data pointer is an `Arc<AtomicUsize>` turned into a raw
/// pointer (`Arc::into_raw`): each wake adds one to the counter.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker that counts how often it is woken.
pub fn counting_waker(counter: Arc<AtomicUsize>) -> Waker {
    let data = Arc::into_raw(counter).cast::<()>();
    // SAFETY: `data` comes from `Arc::into_raw` of an `Arc<AtomicUsize>`, which is exactly what
    // every function of VTABLE expects; the waker owns that one reference count until `wake`
    // or `drop_waker` gives it back.
    unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
}

/// Makes a second waker: one more reference to the same counter.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` is a pointer from `Arc::into_raw` whose reference count the waker being
    // cloned still owns; incrementing gives the new waker a count of its own.
    unsafe { Arc::increment_strong_count(data.cast::<AtomicUsize>()) };
    RawWaker::new(data, &VTABLE)
}

/// Wakes, consuming the waker: count, and release its reference.
unsafe fn wake(data: *const ()) {
    // SAFETY: the waker owns one reference count; `from_raw` takes it back, and the `Arc` is
    // dropped at the end of this function, exactly once.
    let counter = unsafe { Arc::from_raw(data.cast::<AtomicUsize>()) };
    counter.fetch_add(1, Ordering::SeqCst);
}

/// Wakes without consuming the waker: count, and keep its reference.
unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker is alive (we are called through a `&Waker`), so its reference keeps the
    // counter alive for the duration of this call; we only borrow it.
    let counter = unsafe { &*data.cast::<AtomicUsize>() };
    counter.fetch_add(1, Ordering::SeqCst);
}

/// Drops a waker that was not woken: release its reference.
unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker owns one reference count, given back here exactly once.
    unsafe { Arc::decrement_strong_count(data.cast::<AtomicUsize>()) };
}
// ANCHOR_END: raw_waker

#[cfg(test)]
mod tests {
    use super::*;

    /// Waking by reference and by value, cloning and dropping: the count of wakes is right, and
    /// every reference the wakers took is given back (the `Arc` is unique again at the end).
    #[test]
    fn counts_wakes_and_balances_references() {
        let counter = Arc::new(AtomicUsize::new(0));
        let waker = counting_waker(Arc::clone(&counter));
        waker.wake_by_ref();
        let second = waker.clone();
        assert_eq!(Arc::strong_count(&counter), 3);
        second.wake();
        assert_eq!(Arc::strong_count(&counter), 2);
        let third = waker.clone();
        drop(third);
        waker.wake();
        assert_eq!(counter.load(Ordering::SeqCst), 3);
        assert_eq!(
            Arc::strong_count(&counter),
            1,
            "every reference is given back"
        );
    }

    /// `will_wake` sees a clone as the same waker.
    #[test]
    fn a_clone_will_wake_the_same() {
        let waker = counting_waker(Arc::new(AtomicUsize::new(0)));
        assert!(waker.will_wake(&waker.clone()));
    }
}
