//! `JoinAll` by hand: a future of many futures' outputs, ready when all of them are.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

// ANCHOR: join_all
/// One of the futures, or its output once it is ready.
enum Slot<F: Future> {
    /// Still running.
    Running(F),
    /// Finished with this output.
    Done(F::Output),
    /// The output has been handed out.
    Taken,
}

/// Ready with all outputs, in order, when every future is. Each poll polls every future that is
/// not finished: simple, and fine for a hundred. `FuturesUnordered` (and `join_all` past thirty
/// futures, which then uses `FuturesOrdered`) gives each future its own waker and polls only the
/// ones that were woken, which matters for ten thousand.
pub struct JoinAll<F: Future> {
    slots: Vec<Slot<F>>,
}

impl<F: Future> JoinAll<F> {
    /// Joins `futures`.
    pub fn new(futures: impl IntoIterator<Item = F>) -> JoinAll<F> {
        JoinAll {
            slots: futures.into_iter().map(Slot::Running).collect(),
        }
    }
}

// We never hand out pinned references into `slots` (the futures are `Unpin` and polled with
// `Pin::new`), so moving a `JoinAll` is harmless whatever the outputs are.
impl<F: Future> Unpin for JoinAll<F> {}

// `F: Unpin` lets us poll the futures where they lie in the vector: in safe code, `Pin::new` is
// the only way to pin them there, and it requires `Unpin`. A `!Unpin` future would have to be
// boxed first (`Box::pin`).
impl<F: Future + Unpin> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let mut all_done = true;
        for slot in &mut self.slots {
            if let Slot::Running(future) = slot {
                match Pin::new(future).poll(cx) {
                    Poll::Ready(output) => *slot = Slot::Done(output),
                    Poll::Pending => all_done = false,
                }
            }
        }
        if !all_done {
            return Poll::Pending;
        }
        let outputs = self
            .slots
            .iter_mut()
            .map(|slot| match std::mem::replace(slot, Slot::Taken) {
                Slot::Done(output) => output,
                _ => unreachable!("every slot is done"),
            })
            .collect();
        Poll::Ready(outputs)
    }
}
// ANCHOR_END: join_all
