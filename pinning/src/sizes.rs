//! What the compiler generates for an `async fn`: a state machine that keeps, across each
//! `.await`, the variables still needed after it. When one of them borrows another, the state
//! machine points into itself, like the hand-written greeting; and every `async` future is
//! `!Unpin`, whether it borrows or not.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Returns `Pending` once (waking itself), then `Ready`: an `.await` that really suspends.
#[derive(Debug, Default)]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

// ANCHOR: async_fns
/// Keeps a reference into `buf` across the `.await`: the state machine holds `buf` *and* a
/// pointer into it, as the greeting does.
pub async fn holds_a_reference() -> u8 {
    let buf = [7u8; 256];
    let last = &buf[255];
    YieldNow::default().await;
    *last
}

/// Copies what it needs before the `.await`: `buf` is gone by then, so the state machine
/// holds one byte, and no pointer.
pub async fn holds_a_copy() -> u8 {
    let buf = [7u8; 256];
    let last = buf[255];
    YieldNow::default().await;
    last
}
// ANCHOR_END: async_fns

/// Whether a type is `Unpin`, told at compile time by which method the call resolves to.
/// (`Probe<T>` has the inherent-looking `unpin()` of [`IsUnpin`] only when `T: Unpin`;
/// otherwise auto-ref finds [`NotUnpin`]'s on `&Probe<T>`.) Use through [`unpin!`].
pub struct Probe<T: ?Sized>(pub PhantomData<T>);

/// Answers `true`: found for `Probe<T>` with `T: Unpin`.
pub trait IsUnpin {
    /// Whether the probed type is `Unpin`.
    fn unpin(&self) -> bool {
        true
    }
}
impl<T: ?Sized + Unpin> IsUnpin for Probe<T> {}

/// Answers `false`: found for the others, one auto-ref further.
pub trait NotUnpin {
    /// Whether the probed type is `Unpin`.
    fn unpin(&self) -> bool {
        false
    }
}
impl<T: ?Sized> NotUnpin for &Probe<T> {}

/// A `Probe` of the type of `value` (not moved, not used).
pub fn probe<T: ?Sized>(_value: &T) -> Probe<T> {
    Probe(PhantomData)
}

/// Whether the type of an expression is `Unpin`.
#[macro_export]
macro_rules! unpin {
    ($value:expr) => {{
        #[allow(unused_imports)]
        use $crate::sizes::{IsUnpin as _, NotUnpin as _};
        (&$crate::sizes::probe(&$value)).unpin()
    }};
}

/// One row of the table: a future's type, its size and whether it is `Unpin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// What the future is.
    pub future: &'static str,
    /// `size_of_val` of it.
    pub size: usize,
    /// Whether its type is `Unpin`.
    pub unpin: bool,
}

// ANCHOR: table
/// The futures of this crate, measured.
pub fn table() -> Vec<Row> {
    use crate::greeting::{Pinned, Unpinned};
    use crate::project::Counted;
    macro_rules! row {
        ($name:expr, $future:expr) => {{
            let future = $future;
            Row {
                future: $name,
                size: std::mem::size_of_val(&future),
                unpin: unpin!(future),
            }
        }};
    }
    vec![
        row!("std::future::ready(7u8)", std::future::ready(7u8)),
        row!("Unpinned (Greeting<()>)", Unpinned::new()),
        row!("Pinned (Greeting<PhantomPinned>)", Pinned::new()),
        row!("Counted<Pinned>", Counted::new(Pinned::new())),
        row!("Counted<Ready<u8>>", Counted::new(std::future::ready(7u8))),
        row!("holds_a_reference()", holds_a_reference()),
        row!("holds_a_copy()", holds_a_copy()),
    ]
}
// ANCHOR_END: table
