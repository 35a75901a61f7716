//! The ring: what step 8's executor sleeps in, in place of step 5's reactor.
//!
//! Step 5's reactor answers "is this socket ready?", and the future then makes the system call
//! itself. The ring is handed the whole operation instead (connect this socket, receive into
//! this buffer), and answers "it is done, and here is the result". Each operation has a slot
//! here, named in the kernel's queues by its `user_data` (slot and generation, as step 5's
//! tokens). The slot keeps the waker of the future waiting for it, and everything the kernel
//! may touch until the operation completes: the buffer, the address, the socket. So when a
//! future is dropped half-way, nothing the kernel still uses is freed: the slot is
//! *orphaned*, a cancel is submitted, and the slot is emptied when the completion arrives.
//!
//! Entries are pushed into the submission queue as futures start operations, and go to the
//! kernel together, in one `io_uring_enter`, when the executor has nothing left to poll (or when
//! the queue is full). That same call waits for completions; then `turn` reaps them all.
#![allow(unsafe_code)]

use std::any::Any;
use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use io_uring::{IoUring, cqueue, opcode, squeue, types};
use slab::Slab;
use step05_futures::run_queue::{Driver, Interrupt};
use step05_futures::trace;

use step05_futures::timers::{TimerKey, Timers};

use crate::uring::pool::Pool;

/// Kept by a slot until its operation completes: whatever the kernel may read or write.
pub type Keep = Box<dyn Any>;

/// The `user_data` of entries nobody waits for: cancels and fire-and-forget closes. Their
/// completions are counted and otherwise ignored.
const UNWATCHED: u64 = u64::MAX;
/// The `user_data` of the read on the interrupt's eventfd.
const INTERRUPT: u64 = u64::MAX - 1;
/// The `user_data` of the entries that give buffers to the kernel's pool: nobody waits for
/// them, but one that fails is an error of the ring (a lost buffer could starve receives).
const PROVIDE: u64 = u64::MAX - 2;
/// Slots are numbered in the low 32 bits of `user_data`, generations in the high 32.
const SLOT_BITS: u32 = 32;

/// How many entries a ring's submission queue holds unless asked otherwise.
pub const DEFAULT_ENTRIES: u32 = 256;

// ANCHOR: slot
/// One operation the kernel has been handed.
struct Slot {
    /// The generation it was started in: a completion for an older one is not for it.
    generation: u32,
    /// The result, once the completion has arrived (a count, or `-errno`), and the
    /// completion's flags (which provided buffer a receive used, for one).
    result: Option<(i32, u32)>,
    /// The waker of the future waiting for it.
    waker: Option<Waker>,
    /// What the kernel may use until completion.
    keep: Keep,
    /// Its future was dropped: nobody will take the result; free the slot when it arrives.
    orphaned: bool,
    /// Its result is a descriptor the kernel makes (an accept's connection): one nobody takes
    /// is closed, not leaked.
    makes_descriptor: bool,
}
// ANCHOR_END: slot

/// An operation started on the ring: its slot and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpId {
    key: usize,
    generation: u32,
}

impl OpId {
    /// How the kernel's queues name it.
    fn user_data(self) -> u64 {
        (u64::from(self.generation) << SLOT_BITS) | self.key as u64
    }
}

/// What the ring has counted since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// `io_uring_enter` system calls: every submission and every wait.
    pub enters: u64,
    /// Entries handed to the kernel (operations, cancels, closes, interrupt reads).
    pub submitted: u64,
    /// Completions reaped.
    pub completed: u64,
    /// Operations whose future was dropped before they completed.
    pub orphaned: u64,
    /// Receives into the pool that found every buffer in use (`ENOBUFS`), and started again
    /// once one came back.
    pub ran_dry: u64,
}

// ANCHOR: ring
/// An io_uring instance and the operations in flight on it.
pub struct Ring {
    /// The kernel's two queues, mapped into our memory.
    ring: IoUring,
    /// The operations in flight (and completed ones whose result nobody has taken yet).
    slots: Slab<Slot>,
    /// The generation the next operation gets.
    next_generation: u32,
    /// Written by other threads to interrupt a sleeping `turn`.
    interrupt: Arc<EventInterrupt>,
    /// Where the interrupt's eventfd read puts its 8 bytes (boxed: the kernel writes there).
    interrupt_buf: Box<u64>,
    /// Whether that read is in flight (the kernel may write into `interrupt_buf`).
    interrupt_armed: bool,
    /// Set when the ring is being dropped: the interrupt is not re-armed.
    closing: bool,
    /// The timers: deadlines `turn` waits no longer than.
    timers: Timers,
    /// The receive buffers given to the kernel, if any (see [`Ring::provide_buffers`]).
    pool: Option<Pool>,
    /// What it has counted.
    counts: Counts,
    /// How many runtimes have installed it (see [`Ring::enter`]).
    entered: usize,
}
// ANCHOR_END: ring

thread_local! {
    /// The ring of the runtime running on this thread, set by `block_on`.
    static CURRENT: RefCell<Option<Rc<RefCell<Ring>>>> = const { RefCell::new(None) };
}

/// Makes a ring the current one for as long as it lives (see [`Ring::enter`]).
pub struct CurrentGuard {
    installed: Rc<RefCell<Ring>>,
    previous: Option<Rc<RefCell<Ring>>>,
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        self.installed.borrow_mut().entered -= 1;
        CURRENT.with(|current| *current.borrow_mut() = self.previous.take());
    }
}

/// The eventfd another thread writes to, to end a `turn` that sleeps.
struct EventInterrupt(OwnedFd);

impl Interrupt for EventInterrupt {
    fn interrupt(&self) {
        let one = 1u64.to_ne_bytes();
        // An error means the counter is full (it is not reset until read): a wake is pending
        // already. Nothing else can fail on a valid eventfd.
        let _ = nix::unistd::write(&self.0, &one);
    }
}

/// The error a ring's operations give once no runtime turns the ring any more.
fn stopped() -> io::Error {
    io::Error::other("the ring's runtime has ended: nobody will complete this operation")
}

impl Ring {
    /// A ring whose submission queue holds `entries` entries (a power of two; the kernel
    /// rounds up). Fails where io_uring is not allowed: see [`crate::unavailable`].
    pub fn new(entries: u32) -> io::Result<Ring> {
        // Completions can outnumber the submission queue (many operations in flight): give
        // them room, and the kernel keeps any overflow until we reap (IORING_FEAT_NODROP).
        let ring = IoUring::builder()
            .setup_cqsize(entries.max(1) * 8)
            .build(entries.max(1))?;
        let eventfd = nix::sys::eventfd::EventFd::from_flags(
            nix::sys::eventfd::EfdFlags::EFD_CLOEXEC | nix::sys::eventfd::EfdFlags::EFD_NONBLOCK,
        )?;
        let mut ring = Ring {
            ring,
            slots: Slab::new(),
            next_generation: 0,
            interrupt: Arc::new(EventInterrupt(OwnedFd::from(eventfd))),
            interrupt_buf: Box::new(0),
            interrupt_armed: false,
            closing: false,
            timers: Timers::default(),
            pool: None,
            counts: Counts::default(),
            entered: 0,
        };
        ring.arm_interrupt()?;
        Ok(ring)
    }

    // ANCHOR: provide_buffers
    /// Gives the kernel a pool of `count` receive buffers of `size` bytes, for receives that
    /// let the kernel pick their buffer when data arrives
    /// ([`TcpStream::read_from_pool`](crate::uring::net::TcpStream::read_from_pool)). Done
    /// once, before the ring runs anything: one entry, and one `io_uring_enter` to hand it
    /// over and wait for its answer.
    pub fn provide_buffers(&mut self, count: u16, size: usize) -> io::Result<()> {
        if self.pool.is_some() || !self.slots.is_empty() || count == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a ring gets one pool of at least one buffer, before any operation starts",
            ));
        }
        let pool = self.pool.insert(Pool::new(count, size));
        let entry = pool.provide(0, count).user_data(PROVIDE);
        // SAFETY: the entry points into the pool's block, which the ring owns and frees only
        // when no operation is in flight (see `Drop for Ring`).
        unsafe { self.push(&entry) }?;
        self.io_uring_enter(1, None)?;
        let (mut to_wake, mut to_drop) = (Vec::new(), Vec::new());
        self.reap(&mut to_wake, &mut to_drop) // an error here is the provide's
    }
    // ANCHOR_END: provide_buffers

    /// The pool of receive buffers, if the ring has one.
    pub(crate) fn pool(&self) -> Option<&Pool> {
        self.pool.as_ref()
    }

    /// The pool of receive buffers, if the ring has one.
    pub(crate) fn pool_mut(&mut self) -> Option<&mut Pool> {
        self.pool.as_mut()
    }

    /// A receive into the pool found every buffer in use.
    pub(crate) fn ran_dry(&mut self) {
        self.counts.ran_dry += 1;
    }

    /// Gives buffer `id` back to the kernel's pool, with the next batch: the task has read it,
    /// or nobody will (its receive was orphaned).
    pub(crate) fn give_back(&mut self, id: u16) -> io::Result<()> {
        let Some(pool) = &mut self.pool else {
            return Err(crate::uring::pool::no_pool());
        };
        pool.give_back(id);
        Ok(())
    }

    /// Queues the entries that give the returned buffers back (see `Pool::give_back_entries`).
    fn queue_give_backs(&mut self) -> io::Result<()> {
        let Some(pool) = &mut self.pool else {
            return Ok(());
        };
        for entry in pool.give_back_entries() {
            // SAFETY: as in `provide_buffers`: the entry points into the pool's block.
            unsafe { self.push(&entry.user_data(PROVIDE)) }?;
        }
        Ok(())
    }

    /// Installs `ring` as this thread's current ring until the guard is dropped.
    pub fn enter(ring: Rc<RefCell<Ring>>) -> CurrentGuard {
        ring.borrow_mut().entered += 1;
        let installed = Rc::clone(&ring);
        let previous = CURRENT.with(|current| current.borrow_mut().replace(ring));
        CurrentGuard {
            installed,
            previous,
        }
    }

    /// The current ring. Panics outside a runtime: sockets and timers of this step only work
    /// inside [`block_on`](crate::block_on).
    pub fn current() -> Rc<RefCell<Ring>> {
        Ring::try_current().expect(
            "no ring on this thread: create sockets and timers inside step08_io_uring::block_on",
        )
    }

    /// The current ring, if this thread is running one.
    pub fn try_current() -> Option<Rc<RefCell<Ring>>> {
        CURRENT.with(|current| current.borrow().clone())
    }

    /// What it has counted so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Operations in flight or completed and not yet taken, orphans included (for tests: after
    /// a run, nothing is left).
    pub fn live_operations(&self) -> usize {
        self.slots.len()
    }

    /// The ring's timers (step 8's `Sleep` polls and removes them): step 5's heap of deadlines,
    /// which `turn` waits no longer than. A timer costs no entry on the ring.
    pub fn timers(&mut self) -> &mut Timers {
        &mut self.timers
    }

    /// Adds a timer for `deadline`.
    pub fn add_timer(&mut self, deadline: Instant) -> TimerKey {
        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1);
        self.timers.add(deadline, generation)
    }

    /// How many entries the submission queue holds.
    pub fn entries(&self) -> u32 {
        self.ring.params().sq_entries()
    }

    // ANCHOR: start
    /// Hands the kernel an operation: `entry`, whose pointers point into `keep` (or into
    /// memory that otherwise outlives the operation). The slot keeps `keep` until the
    /// operation completes, whatever happens to the future that started it.
    ///
    /// # Safety
    ///
    /// Every pointer in `entry` must stay valid, and not be used by anyone else, until the
    /// operation's completion has been reaped. Pointers into the heap memory `keep` owns
    /// satisfy this: the slot holds `keep` that long, and moving a `Box` does not move what it
    /// points to.
    pub unsafe fn start(
        &mut self,
        entry: squeue::Entry,
        keep: Keep,
    ) -> Result<OpId, (io::Error, Keep)> {
        if self.entered == 0 {
            return Err((stopped(), keep));
        }
        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1);
        let key = self.slots.insert(Slot {
            generation,
            result: None,
            waker: None,
            keep,
            orphaned: false,
            makes_descriptor: false,
        });
        let id = OpId { key, generation };
        // SAFETY: the caller promises `entry`'s pointers live until its completion; the slot
        // just made holds `keep` that long.
        if let Err(e) = unsafe { self.push(&entry.user_data(id.user_data())) } {
            return Err((e, self.slots.remove(key).keep));
        }
        Ok(id)
    }
    // ANCHOR_END: start

    // ANCHOR: push
    /// Puts `entry` in the submission queue; if the queue is full, first hands what it holds to
    /// the kernel (one `io_uring_enter`) to make room.
    ///
    /// # Safety
    ///
    /// As for [`Ring::start`]: `entry`'s pointers stay valid until its completion.
    unsafe fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: passed on from our caller.
            if unsafe { self.ring.submission().push(entry) }.is_ok() {
                self.counts.submitted += 1;
                return Ok(());
            }
            // The queue is full: submit what it holds, which frees its places.
            self.io_uring_enter(0, None)?;
        }
    }
    // ANCHOR_END: push

    /// Arms (again) the read on the interrupt's eventfd.
    fn arm_interrupt(&mut self) -> io::Result<()> {
        let fd = types::Fd(self.interrupt.0.as_raw_fd());
        let buf: *mut u64 = &mut *self.interrupt_buf;
        let entry = opcode::Read::new(fd, buf.cast(), 8)
            .build()
            .user_data(INTERRUPT);
        // SAFETY: the buffer is a box the ring owns, and the ring outlives the read: its drop
        // waits for this read's completion (see `Drop for Ring`). The eventfd lives as long.
        unsafe { self.push(&entry) }?;
        self.interrupt_armed = true;
        Ok(())
    }

    // ANCHOR: poll_op
    /// Has operation `id` completed? If so, its result (`-errno` for an error) and what its
    /// slot kept, and the slot is freed. If not, the waker of `cx` is kept, to be woken by its
    /// completion.
    pub fn poll_op(&mut self, id: OpId, cx: &mut Context<'_>) -> Poll<(i32, u32, Keep)> {
        let slot = self
            .slot(id)
            .expect("an operation is polled only while it is in flight");
        if let Some((result, flags)) = slot.result {
            let slot = self.slots.remove(id.key);
            return Poll::Ready((result, flags, slot.keep));
        }
        match &slot.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The future of operation `id` was dropped before it took the result. If the result is
    /// there, the slot goes now; if not, the slot stays, orphaned, until the completion
    /// arrives (the kernel may still be using what it keeps), and the kernel is asked to cancel
    /// the operation.
    pub fn orphan(&mut self, id: OpId) -> Option<Keep> {
        let slot = self.slot(id)?;
        if let Some((result, flags)) = slot.result {
            // A receive whose buffer nobody will read: the buffer goes back to the pool.
            self.recycle(flags);
            // Handed back so the caller drops it outside the ring's borrow (it may hold a
            // socket, whose drop submits a close), with the descriptor nobody will take.
            let slot = self.slots.remove(id.key);
            let unclaimed = unclaimed_descriptor(&slot, result);
            return Some(Box::new((slot.keep, unclaimed)));
        }
        slot.orphaned = true;
        slot.waker = None;
        self.counts.orphaned += 1;
        let cancel = opcode::AsyncCancel::new(id.user_data())
            .build()
            .user_data(UNWATCHED);
        // SAFETY: a cancel entry points to no memory; it names its target by user_data.
        if let Err(e) = unsafe { self.push(&cancel) } {
            // Without a cancel the operation still ends (a timeout, the peer, the ring's drop).
            eprintln!("step08: could not submit a cancel: {e}");
        }
        None
    }
    // ANCHOR_END: poll_op

    /// Submits a close of `fd` that nobody waits for: the descriptor is closed by the kernel,
    /// with the next batch, at no system call of its own. Hands `fd` back if the ring cannot
    /// take it (its runtime has ended, or the kernel refused to make room).
    pub fn close_later(&mut self, fd: OwnedFd) -> Result<(), OwnedFd> {
        if self.entered == 0 {
            return Err(fd);
        }
        let close = opcode::Close::new(types::Fd(fd.as_raw_fd()))
            .build()
            .user_data(UNWATCHED);
        // SAFETY: a close points to no memory. The descriptor is ours alone: once the entry is
        // in the queue, we give up ownership (below) to the kernel's close.
        match unsafe { self.push(&close) } {
            Ok(()) => {
                std::mem::forget(fd);
                Ok(())
            }
            Err(_) => Err(fd),
        }
    }

    /// Gives back the pool's buffer a completion with `flags` took, if it took one: for
    /// receives whose result nobody reads.
    fn recycle(&mut self, flags: u32) {
        if let Some(id) = cqueue::buffer_select(flags)
            && let Err(e) = self.give_back(id)
        {
            eprintln!("step08: could not give buffer {id} back to the kernel: {e}");
        }
    }

    /// The slot of `id`, if it is still that operation's.
    /// Marks operation `id` as one whose result is a new descriptor (an accept): if its future
    /// is dropped after the kernel made the descriptor, the ring closes it.
    pub fn result_is_descriptor(&mut self, id: OpId) {
        if let Some(slot) = self.slot(id) {
            slot.makes_descriptor = true;
        }
    }

    fn slot(&mut self, id: OpId) -> Option<&mut Slot> {
        self.slots
            .get_mut(id.key)
            .filter(|slot| slot.generation == id.generation)
    }

    /// One `io_uring_enter`: submits what the submission queue holds and, with `wait`, waits
    /// for at least one completion (no longer than `timeout`, if given).
    fn io_uring_enter(&mut self, want: usize, timeout: Option<Duration>) -> io::Result<()> {
        self.counts.enters += 1;
        if trace::enabled() {
            let entries = self.ring.submission().len();
            let waits = if want > 0 { " and waits" } else { "" };
            trace::line(format_args!(
                "ring: io_uring_enter hands over {entries} entries{waits}"
            ));
        }
        let submitter = self.ring.submitter();
        let entered = match timeout {
            Some(timeout) if want > 0 => {
                let ts = types::Timespec::from(timeout);
                let args = types::SubmitArgs::new().timespec(&ts);
                submitter.submit_with_args(want, &args)
            }
            _ => submitter.submit_and_wait(want),
        };
        match entered {
            Ok(_) => Ok(()),
            // The wait timed out, or a signal came: both just end the wait.
            Err(e) if e.raw_os_error() == Some(libc::ETIME) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Waits (no longer than `within`) until every orphaned operation has completed and its
    /// slot is freed; returns how many operations are still on the ring (orphans whose
    /// completion did not come, and completed operations nobody took).
    pub fn settle(&mut self, within: Duration) -> usize {
        let give_up = std::time::Instant::now() + within;
        let waiting = |ring: &Ring| {
            ring.slots.iter().any(|(_, slot)| slot.result.is_none())
                || (ring.closing && ring.interrupt_armed)
        };
        while waiting(self) && std::time::Instant::now() < give_up {
            if self
                .io_uring_enter(1, Some(Duration::from_millis(100)))
                .is_err()
            {
                break;
            }
            let (mut to_wake, mut freed) = (Vec::new(), Vec::new());
            if self.reap(&mut to_wake, &mut freed).is_err() {
                break;
            }
        }
        self.slots.len()
    }

    // ANCHOR: reap
    /// Takes every completion from the completion queue: records each result in its slot and
    /// collects the waker to wake; frees an orphan's slot (its keep goes into `to_drop`, to be
    /// dropped outside the ring's borrow); re-arms the interrupt.
    fn reap(&mut self, to_wake: &mut Vec<Waker>, to_drop: &mut Vec<Keep>) -> io::Result<()> {
        let done: Vec<(u64, i32, u32)> = self
            .ring
            .completion()
            .map(|cqe: cqueue::Entry| (cqe.user_data(), cqe.result(), cqe.flags()))
            .collect();
        self.counts.completed += done.len() as u64;
        if trace::enabled() && !done.is_empty() {
            let n = done.len();
            let s = if n == 1 { "" } else { "s" };
            trace::line(format_args!("ring: {n} completion{s} reaped"));
        }
        for (user_data, result, flags) in done {
            match user_data {
                UNWATCHED => {}
                PROVIDE if result < 0 => {
                    let e = io::Error::from_raw_os_error(-result);
                    return Err(io::Error::new(
                        e.kind(),
                        format!("giving receive buffers to the kernel failed: {e}"),
                    ));
                }
                PROVIDE => {}
                INTERRUPT => {
                    self.interrupt_armed = false;
                    if !self.closing {
                        self.arm_interrupt()?;
                    }
                }
                _ => {
                    let id = OpId {
                        key: (user_data & ((1 << SLOT_BITS) - 1)) as usize,
                        generation: (user_data >> SLOT_BITS) as u32,
                    };
                    let Some(slot) = self.slot(id) else {
                        continue; // not ours any more: cannot happen, but never misdeliver
                    };
                    if slot.orphaned {
                        let slot = self.slots.remove(id.key);
                        if let Some(fd) = unclaimed_descriptor(&slot, result) {
                            to_drop.push(Box::new(fd));
                        }
                        to_drop.push(slot.keep);
                        self.recycle(flags);
                    } else {
                        slot.result = Some((result, flags));
                        to_wake.extend(slot.waker.take());
                    }
                }
            }
        }
        Ok(())
    }
    // ANCHOR_END: reap
}

/// The descriptor an orphaned operation's completion carries, if it made one (an accept the
/// kernel completed after, or just before, its future was dropped): closed when dropped.
fn unclaimed_descriptor(slot: &Slot, result: i32) -> Option<OwnedFd> {
    (slot.makes_descriptor && result >= 0).then(|| {
        // SAFETY: the kernel made this descriptor for the operation, and the operation's
        // future, the only one that would have taken it, is gone: nothing else owns it.
        unsafe { OwnedFd::from_raw_fd(result) }
    })
}

// ANCHOR: turn
/// The ring is what step 8's executor sleeps in: step 5's `block_on_driven`, unchanged.
impl Driver for Ring {
    const NAME: &'static str = "ring";
    const SLEEPS_IN: &'static str = "io_uring_enter";

    /// Submits every entry queued since the last turn and, unless `timeout` is zero, waits for
    /// a completion (when none is waiting already): one `io_uring_enter` for both. Then reaps
    /// every completion.
    fn turn(&mut self, timeout: Option<Duration>) -> io::Result<Vec<Waker>> {
        // The buffers tasks have read since the last turn go back with this batch.
        self.queue_give_backs()?;
        // No longer than asked, nor than the nearest timer.
        let timeout = match (timeout, self.timers.next_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let waiting = !self.ring.completion().is_empty();
        let queued = !self.ring.submission().is_empty();
        match timeout {
            // Only a look: the completion queue is in our memory, no system call needed,
            // unless there are entries to hand over.
            Some(Duration::ZERO) | None if waiting => {
                if queued {
                    self.io_uring_enter(0, None)?;
                }
            }
            Some(Duration::ZERO) if queued => self.io_uring_enter(0, None)?,
            Some(Duration::ZERO) => {}
            // Submit and sleep until a completion (or the timeout), in one system call.
            _ => self.io_uring_enter(1, timeout)?,
        }
        let mut to_wake = Vec::new();
        let mut orphans = Vec::new();
        self.reap(&mut to_wake, &mut orphans)?;
        self.timers.fire_due(Instant::now(), &mut to_wake);
        // Buffers given back at the start of this turn have just gone to the kernel: the
        // receives that found the pool empty can try again.
        if let Some(pool) = &mut self.pool {
            pool.wake_waiting(&mut to_wake);
        }
        // What the orphans kept is freed now that the kernel is done with it. (A socket among
        // it is closed by a plain close(2): the ring is busy with us.)
        drop(orphans);
        Ok(to_wake)
    }

    /// The eventfd whose read is always armed on the ring.
    fn interrupter(&self) -> Arc<dyn Interrupt> {
        Arc::clone(&self.interrupt) as Arc<dyn Interrupt>
    }
}
// ANCHOR_END: turn

impl Drop for Ring {
    /// The kernel may still be writing into what the slots keep: cancel every operation and
    /// wait for the completions before anything is freed. (Closing the ring would cancel them
    /// too, but asynchronously, after our memory was gone.) After five seconds without an
    /// answer, what is left is leaked rather than freed under the kernel's hands.
    fn drop(&mut self) {
        // Hand over what is queued (closes among it) before anything else.
        let _ = self.io_uring_enter(0, None);
        let pending: Vec<OpId> = self
            .slots
            .iter()
            .filter(|(_, slot)| slot.result.is_none())
            .map(|(key, slot)| OpId {
                key,
                generation: slot.generation,
            })
            .collect();
        for id in pending {
            if let Some(slot) = self.slot(id) {
                slot.orphaned = true;
            }
            let cancel = opcode::AsyncCancel::new(id.user_data())
                .build()
                .user_data(UNWATCHED);
            // SAFETY: a cancel points to no memory.
            let _ = unsafe { self.push(&cancel) };
        }
        self.closing = true;
        let interrupt = opcode::AsyncCancel::new(INTERRUPT)
            .build()
            .user_data(UNWATCHED);
        // SAFETY: as above.
        let _ = unsafe { self.push(&interrupt) };
        self.settle(Duration::from_secs(5));
        if self.interrupt_armed {
            // The kernel may still write 8 bytes there: leak them rather than free them.
            std::mem::forget(std::mem::replace(&mut self.interrupt_buf, Box::new(0)));
        }
        if self.slots.iter().any(|(_, slot)| slot.result.is_none()) {
            eprintln!(
                "step08: operations still in flight as the ring closes: their memory is leaked"
            );
            for (_, slot) in std::mem::take(&mut self.slots) {
                std::mem::forget(slot.keep);
            }
            // A receive still in flight may yet write into the pool's block.
            std::mem::forget(self.pool.take());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;

    /// A ring installed as if by a runtime, for driving by hand.
    fn ring() -> (Rc<RefCell<Ring>>, CurrentGuard) {
        let ring = Rc::new(RefCell::new(Ring::new(8).unwrap()));
        let guard = Ring::enter(Rc::clone(&ring));
        (ring, guard)
    }

    /// A completion that names an operation whose slot was freed and given to another is not
    /// delivered to the newcomer: the generation in its `user_data` is the old one.
    #[test]
    fn a_stale_completion_is_not_delivered_to_a_reused_slot() {
        if !crate::io_uring_here("a_stale_completion_is_not_delivered_to_a_reused_slot") {
            return;
        }
        let (ring, _guard) = ring();
        let mut ring = ring.borrow_mut();
        let mut cx = Context::from_waker(Waker::noop());
        // SAFETY: a no-op points to no memory.
        let old = unsafe { ring.start(opcode::Nop::new().build(), Box::new(())) }.unwrap();
        while ring.poll_op(old, &mut cx).is_pending() {
            ring.turn(None).unwrap();
        }
        // A long timer takes the freed slot, with a new generation.
        let ts = Box::new(types::Timespec::new().sec(60));
        let ts_ptr: *const types::Timespec = &*ts;
        // SAFETY: the timespec is boxed and kept by the slot until completion.
        let new = unsafe { ring.start(opcode::Timeout::new(ts_ptr).build(), ts) }.unwrap();
        assert_eq!(new.key, old.key, "the slot is reused");
        assert_ne!(new.generation, old.generation);
        // Now a completion arrives with the old operation's user_data.
        let stale = opcode::Nop::new().build().user_data(old.user_data());
        // SAFETY: a no-op points to no memory.
        unsafe { ring.push(&stale) }.unwrap();
        let completed = ring.counts().completed;
        while ring.counts().completed == completed {
            ring.turn(None).unwrap();
        }
        assert!(
            ring.poll_op(new, &mut cx).is_pending(),
            "the timer is still waiting: the stale completion was not taken for it"
        );
        drop(ring.orphan(new));
    }

    /// An operation started on a ring whose runtime has ended is refused, and what it was given
    /// comes back.
    #[test]
    fn a_ring_nobody_turns_refuses_new_operations() {
        if !crate::io_uring_here("a_ring_nobody_turns_refuses_new_operations") {
            return;
        }
        let (ring, guard) = ring();
        drop(guard);
        let mut ring = ring.borrow_mut();
        // SAFETY: a no-op points to no memory.
        let refused = unsafe { ring.start(opcode::Nop::new().build(), Box::new(7u32)) };
        let (error, keep) = refused.unwrap_err();
        assert!(error.to_string().contains("runtime has ended"), "{error}");
        assert_eq!(*keep.downcast::<u32>().unwrap(), 7);
    }
}
