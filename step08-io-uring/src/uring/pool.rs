//! The ring's pool of receive buffers: io_uring's answer to "a buffer per waiting read".
//!
//! With owned buffers ([`TcpStream::read`](crate::uring::net::TcpStream::read)), a receive
//! hands the kernel its buffer when it starts, and the buffer is the kernel's for as long as
//! the receive waits: ten thousand waiting connections hold ten thousand buffers, though none
//! has anything in it yet. Here the ring gives the kernel a pool once
//! (`IORING_OP_PROVIDE_BUFFERS`: one block cut into equal buffers, under a group number), and a
//! receive names the group instead of a buffer (`BUFFER_SELECT`). The kernel takes a buffer
//! from the group only when data arrives, and the completion's flags say which one. The task
//! reads it through a [`PoolBuf`], and dropping that gives the buffer back. Memory is spent
//! per *arriving* message, not per *waiting* connection.
//!
//! When every buffer is out, a receive completes with `ENOBUFS`; it then waits until a buffer
//! has been given back, and starts again.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::io;
use std::ops::Deref;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use io_uring::{opcode, squeue};

use crate::uring::ring::Ring;

/// The group number of the ring's pool: a receive names it to let the kernel pick a buffer.
pub const GROUP: u16 = 0;

/// How many buffers a pool has unless asked otherwise.
pub const DEFAULT_BUFFERS: u16 = 512;
/// The size of each buffer of a pool.
pub const BUFFER_SIZE: usize = 8 * 1024;

// ANCHOR: pool
/// Receive buffers given to the kernel: `count` buffers of `size` bytes, in one block. The
/// kernel writes into a buffer between picking it for a receive and that receive's completion;
/// after that the buffer is ours (a [`PoolBuf`]) until we give it back. We never make a Rust
/// reference to the whole block, only to a buffer the kernel has finished with.
pub(crate) struct Pool {
    /// The block: a boxed slice, leaked in `new` and freed in `drop`.
    base: *mut u8,
    /// The block's length: `count * size`.
    len: usize,
    /// The size of each buffer.
    size: usize,
    /// Buffers read (or nobody will read), to go back to the kernel with the next batch.
    returned: Vec<u16>,
    /// How many buffers have gone back to the kernel: a receive that found the pool empty
    /// waits until this moves.
    given_back: u64,
    /// What `given_back` was when the waiting receives were last woken.
    woken_at: u64,
    /// The wakers of the receives that found the pool empty.
    waiting: Vec<Waker>,
}
// ANCHOR_END: pool

impl Pool {
    /// A block of `count` buffers of `size` bytes, not yet given to the kernel.
    pub(crate) fn new(count: u16, size: usize) -> Pool {
        let len = size * usize::from(count);
        let base = Box::into_raw(vec![0u8; len].into_boxed_slice()).cast::<u8>();
        Pool {
            base,
            len,
            size,
            returned: Vec::new(),
            given_back: 0,
            woken_at: 0,
            waiting: Vec::new(),
        }
    }

    /// The entry that gives buffers `first..first + count` to the kernel, under [`GROUP`].
    pub(crate) fn provide(&self, first: u16, count: u16) -> squeue::Entry {
        // The whole range lies inside the block: `first + count` is at most the pool's count.
        debug_assert!((usize::from(first) + usize::from(count)) * self.size <= self.len);
        // SAFETY: `first` is a buffer of the block, so the offset stays inside it.
        let at = unsafe { self.base.add(self.size * usize::from(first)) };
        let size = i32::try_from(self.size).expect("a buffer's size fits in an i32");
        opcode::ProvideBuffers::new(at, size, count, GROUP, first).build()
    }

    /// The size of each buffer (the most a receive into the pool asks for).
    pub(crate) fn buffer_size(&self) -> usize {
        self.size
    }

    /// Buffer `id` is free again: it goes back to the kernel with the next batch.
    pub(crate) fn give_back(&mut self, id: u16) {
        self.returned.push(id);
    }

    // ANCHOR: give_back
    /// The entries that give every returned buffer back to the kernel: one per run of
    /// consecutive buffer numbers. The kernel hands buffers out in order, and they come back
    /// in about that order, so one entry often carries dozens.
    pub(crate) fn give_back_entries(&mut self) -> Vec<squeue::Entry> {
        let entries = runs(&mut self.returned)
            .into_iter()
            .map(|(first, count)| self.provide(first, count))
            .collect();
        self.given_back += self.returned.len() as u64;
        self.returned.clear();
        entries
    }
    // ANCHOR_END: give_back

    /// How many buffers have gone back so far: what a receive notes before it starts, to know
    /// after an `ENOBUFS` whether one has come back since.
    pub(crate) fn given_back_so_far(&self) -> u64 {
        self.given_back
    }

    /// Ready once a buffer has gone back since `seen`; until then, keeps the waker.
    pub(crate) fn poll_given_back(&mut self, seen: u64, cx: &mut Context<'_>) -> Poll<()> {
        if self.given_back != seen {
            return Poll::Ready(());
        }
        self.waiting.push(cx.waker().clone());
        Poll::Pending
    }

    /// The waiting receives to wake, if buffers have gone back since they were last woken:
    /// called by `turn`, after the `io_uring_enter` that handed those buffers to the kernel.
    pub(crate) fn wake_waiting(&mut self, to_wake: &mut Vec<Waker>) {
        if self.given_back != self.woken_at {
            self.woken_at = self.given_back;
            to_wake.append(&mut self.waiting);
        }
    }

    /// Where buffer `id` starts, and its size.
    fn buffer(&self, id: u16) -> (*const u8, usize) {
        assert!(
            usize::from(id) * self.size < self.len,
            "buffer {id} is in the pool"
        );
        // SAFETY: in bounds (checked above).
        (
            unsafe { self.base.add(usize::from(id) * self.size) },
            self.size,
        )
    }
}

/// `ids` sorted, as runs of consecutive numbers: (first, count) for each.
fn runs(ids: &mut [u16]) -> Vec<(u16, u16)> {
    ids.sort_unstable();
    ids.chunk_by(|a, b| a + 1 == *b)
        .map(|run| {
            let count = u16::try_from(run.len()).expect("at most u16::MAX buffers");
            (run[0], count)
        })
        .collect()
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: `base` and `len` are the boxed slice leaked in `new`. The ring drops its pool
        // only when no operation that could write into it is in flight (see `Drop for Ring`).
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.base, self.len)) });
    }
}

// ANCHOR: pool_buf
/// A buffer of the ring's pool that a receive filled: its bytes, readable through `Deref`,
/// until it is dropped, which gives the buffer back to the kernel (with the next batch).
/// Drop it as soon as its bytes are used: a receive that finds the pool empty waits for a
/// buffer to come back, so a task that holds one while it waits for such a receive (another
/// task's, say) can wait forever.
pub struct PoolBuf {
    /// The ring whose pool the buffer belongs to (kept alive, and with it the block).
    ring: Rc<RefCell<Ring>>,
    /// Which buffer; `None` when the completion names none.
    id: Option<u16>,
    /// Where the buffer starts: in the pool's block, which the ring frees only when it is
    /// dropped, and our `Rc` keeps the ring.
    at: *const u8,
    /// How many bytes the kernel wrote into it.
    len: usize,
}

impl PoolBuf {
    /// Buffer `id` (if any) of `ring`'s pool, holding `len` bytes. Panics if the ring has no
    /// pool, or `len` is more than a buffer holds.
    pub(crate) fn new(ring: Rc<RefCell<Ring>>, id: Option<u16>, len: usize) -> PoolBuf {
        let at = match id {
            Some(id) => {
                let (at, size) = ring.borrow().pool().expect(HAS_POOL).buffer(id);
                assert!(len <= size, "the kernel wrote at most a buffer");
                at
            }
            None => std::ptr::NonNull::dangling().as_ptr(),
        };
        PoolBuf { ring, id, at, len }
    }
}

const HAS_POOL: &str = "a PoolBuf comes from the ring's pool";

impl Deref for PoolBuf {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `at` is buffer `id` of the pool (or dangling with `len` 0, valid for an
        // empty slice). The receive that filled it has completed (that is how this PoolBuf was
        // made), and the buffer goes back to the kernel only in our drop: nobody writes into
        // it while the slice lives. The block is freed only with the ring, which our `Rc`
        // keeps alive.
        unsafe { std::slice::from_raw_parts(self.at, self.len) }
    }
}

impl Drop for PoolBuf {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            // A PoolBuf is dropped by task code, never while the ring is borrowed: the ring
            // holds no PoolBuf (what its slots keep never includes one).
            if let Err(e) = self.ring.borrow_mut().give_back(id) {
                eprintln!("step08: could not give buffer {id} back to the kernel: {e}");
            }
        }
    }
}
// ANCHOR_END: pool_buf

/// Waits until a buffer has gone back to the pool since `seen` (see
/// [`Pool::given_back_so_far`]).
pub(crate) async fn given_back_since(ring: &Rc<RefCell<Ring>>, seen: u64) -> io::Result<()> {
    std::future::poll_fn(|cx| match ring.borrow_mut().pool_mut() {
        Some(pool) => pool.poll_given_back(seen, cx).map(Ok),
        None => Poll::Ready(Err(no_pool())),
    })
    .await
}

/// The error of a receive into the pool on a ring that has none.
pub(crate) fn no_pool() -> io::Error {
    io::Error::other("this ring has no buffer pool: make it with Ring::provide_buffers first")
}

#[cfg(test)]
mod tests {
    use super::runs;

    /// Buffers returned out of order go back as few runs as their numbers allow.
    #[test]
    fn returned_buffers_go_back_in_runs() {
        assert_eq!(runs(&mut [5, 3, 4, 9, 0, 1]), [(0, 2), (3, 3), (9, 1)]);
        assert_eq!(runs(&mut [7]), [(7, 1)]);
        assert_eq!(runs(&mut []), []);
    }
}
