//! The hub: gevent's scheduler, on step 5's reactor.
//!
//! A green thread is a closure running on a stack of its own (a corosensei coroutine). It runs
//! until it must wait (for a socket, a timer, an event, another green thread); then it leaves a
//! [`Waker`] where the thing it waits for will see it, and *switches* to the hub. The hub runs
//! on the OS thread's own stack. It resumes whichever green thread was woken; when none was, it
//! turns the reactor, which sleeps in `epoll_wait` until the kernel or a timer wakes someone.
//!
//! That is step 5's executor with one change: a wake does not mean "poll this future again"
//! but "resume this stack where it stopped". The reactor, the wakers, the readiness protocol
//! are step 5's, unchanged. And the code on a green thread has no `.await` anywhere: waiting
//! is an ordinary function call that returns later ([`park_until`]).
//!
//! If the kernel refuses the reactor its epoll instance, [`run`] panics, as step 5's `block_on`
//! does (the workspace's policy, in `testbed::variants`).

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult};
use step05_futures::reactor::{CurrentGuard, Reactor, TimerKey};
use step05_futures::run_queue::{Driver as _, RunQueue, TaskWaker};

use crate::switch;

/// The stack each green thread gets unless told otherwise: 64 KiB, as step 1 gives its threads.
/// The fan-out's deepest path (`fetch`, its 8 KiB read buffer, the response check) uses a
/// fraction of it; only the pages a green thread touches become resident (chapter 7 measures).
/// A green thread that overflows its stack hits the guard page below it and the process dies
/// of SIGSEGV: there is no "stack overflow" message, as there is for a thread's own stack.
pub const STACK_SIZE: usize = 64 * 1024;

/// How many green threads the hub resumes before it asks the kernel for news again, even if
/// more are ready: a bound on how long I/O and timers can be kept waiting.
const RESUMES_BETWEEN_TURNS: usize = 128;

/// How many finished green threads' stacks the hub keeps for new ones (each is an `mmap` and
/// an `mprotect` saved; the pages they touched stay resident while kept).
const STACKS_KEPT: usize = 1024;

/// A green thread: a coroutine that takes `()` when resumed, gives `()` when it switches away,
/// and returns `()` (its closure's result goes to its [`JoinHandle`]).
type Green = Coroutine<(), (), (), DefaultStack>;

/// One green thread, as the hub keeps it.
struct GreenThread {
    /// Its coroutine; taken out while it runs, so the hub is not borrowed meanwhile.
    coroutine: Option<Green>,
    /// Its waker: step 5's, the same type a task has. Waking it queues the green thread.
    waker: Arc<TaskWaker>,
}

/// The hub's state.
struct Hub {
    /// The green threads not finished yet, by id.
    threads: HashMap<u64, GreenThread>,
    /// The next id (never reused, so a late wake never resumes a newer green thread).
    next_id: u64,
    /// The queue of woken green threads (step 5's run queue), shared with their wakers.
    queue: RunQueue,
    /// The stack size of new green threads.
    stack_size: usize,
    /// Stacks of finished green threads, reused by new ones.
    stacks: Vec<DefaultStack>,
    /// Green threads waiting in [`wait_future`] for a future the hub cannot see into (it may be
    /// woken from another OS thread): while there are any, "nothing can wake anyone" is not
    /// a deadlock the hub can be sure of.
    foreign_waits: usize,
    /// Set when `run` has begun to unwind the green threads left at its end: none of them
    /// will be resumed again, so none may park.
    finishing: bool,
}

thread_local! {
    /// The hub of the [`run`] running on this thread.
    static HUB: RefCell<Option<Rc<RefCell<Hub>>>> = const { RefCell::new(None) };
}

/// The current hub. Panics outside [`run`].
fn hub() -> Rc<RefCell<Hub>> {
    HUB.with(|hub| hub.borrow().clone())
        .expect("no hub on this thread: green threads only run inside step07_green_threads::run")
}

/// What a finished green thread left: its result, or the panic it died of.
type Outcome<T> = Result<T, Box<dyn Any + Send + 'static>>;

/// Where a green thread's result waits for its [`JoinHandle`].
struct JoinSlot<T> {
    /// The result, once the green thread has finished (until the handle takes it).
    result: Option<Outcome<T>>,
    /// The green thread waiting in `join`, if any.
    waiter: Option<Waker>,
}

// ANCHOR: join_handle
/// A green thread's result, to come (gevent's `Greenlet.get`).
pub struct JoinHandle<T> {
    slot: Rc<RefCell<JoinSlot<T>>>,
}

impl<T> JoinHandle<T> {
    /// Waits (switching to the hub) until the green thread has finished; returns what it
    /// returned, or `Err` with the panic's payload if it panicked (as `std::thread::join`).
    /// If it has not finished and this green thread may not wait (a [`CannotPark`]: say, in a
    /// destructor while a panic unwinds), returns `Err` at once, with the `CannotPark` as the
    /// payload.
    pub fn join(self) -> std::thread::Result<T> {
        park_until(|cx| {
            let mut slot = self.slot.borrow_mut();
            match slot.result.take() {
                Some(result) => Poll::Ready(result),
                None => {
                    slot.waiter = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .unwrap_or_else(|refused| Err(Box::new(refused.or_panic_if_misused())))
    }

    /// Whether the green thread has finished.
    pub fn is_finished(&self) -> bool {
        self.slot.borrow().result.is_some()
    }
}
// ANCHOR_END: join_handle

// ANCHOR: spawn
/// Starts `f` on a green thread of its own, with a stack of its own; it first runs when the
/// current green thread next switches to the hub. Fails if the stack cannot be had (`mmap`).
pub fn try_spawn<F, T>(f: F) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    let hub = hub();
    let mut hub = hub.borrow_mut();
    let stack = match hub.stacks.pop() {
        Some(stack) => stack,
        None => DefaultStack::new(hub.stack_size)?,
    };
    let id = hub.next_id;
    hub.next_id += 1;
    let waker = hub.queue.waker(id);
    let slot = Rc::new(RefCell::new(JoinSlot {
        result: None,
        waiter: None,
    }));
    let (green_waker, green_slot) = (Waker::from(Arc::clone(&waker)), Rc::clone(&slot));
    // What runs on the new stack. `yielder` is corosensei's handle for switching back.
    let coroutine = Green::with_stack(stack, move |yielder, ()| {
        let _running = switch::start(yielder, green_waker);
        // A panic ends this green thread, not the hub: it goes to whoever joins.
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        let waiter = {
            let mut slot = green_slot.borrow_mut();
            slot.result = Some(result);
            slot.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    });
    hub.threads.insert(
        id,
        GreenThread {
            coroutine: Some(coroutine),
            waker: Arc::clone(&waker),
        },
    );
    // Ready to run: queue it, as a wake would.
    Waker::from(waker).wake();
    Ok(JoinHandle { slot })
}

/// [`try_spawn`], panicking if the green thread cannot be created (as `std::thread::spawn`).
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    try_spawn(f).unwrap_or_else(|e| panic!("cannot create a green thread's stack: {e}"))
}
// ANCHOR_END: spawn

// ANCHOR: park_until
/// Waits, on the current green thread, until `poll` says `Ready`: polls it once; while it
/// says `Pending` (having left the waker it was given wherever the awaited thing will find
/// it), switches to the hub, and polls again when resumed. This is step 5's `block_on` for one
/// stack: every blocking-looking call of this crate is built on it.
///
/// When the answer is `Pending` but this code may not switch (see [`CannotPark`]: a panic is
/// unwinding, `run` is unwinding its leftover green threads, or no green thread is running),
/// it returns `Err` instead of waiting. The waker the poll left behind then stays where it
/// was left: take it back if it matters.
///
/// The hub's deadlock check ([`run`]'s `LoopExit`) assumes the waker stays on this OS thread
/// (at the reactor, or in something other green threads will touch). For a wake that comes
/// from another OS thread, wait with [`wait_future`], which the hub counts.
pub fn park_until<T>(mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>) -> Result<T, CannotPark> {
    let running = switch::current_waker().is_some();
    let waker = own_waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(value) = poll(&mut cx) {
            return Ok(value);
        }
        if let Some(refused) = CannotPark::now(running) {
            return Err(refused);
        }
        switch::switch_to_hub();
    }
}

/// The waker `park_until` polls with: the running green thread's; with none running, one that
/// does nothing (a single poll may still find the thing there: a finished green thread, a set
/// event; if not, there is no one to wake). Wait lists compare with it to take it back.
pub(crate) fn own_waker() -> Waker {
    switch::current_waker().unwrap_or_else(|| Waker::noop().clone())
}
// ANCHOR_END: park_until

// ANCHOR: cannot_park
/// Why a green thread's blocking call returned without waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CannotPark {
    /// A panic is unwinding on this OS thread: the call is in a destructor that the unwind
    /// runs. Switching now would let the other green threads run while std counts this OS
    /// thread as panicking (it keeps one count per OS thread, not per green thread): their
    /// `std::thread::panicking()` would say `true`, and a `Mutex` they unlock would be
    /// poisoned.
    Unwinding,
    /// [`run`] is unwinding the green threads still alive at its end: none of them will ever be
    /// resumed, so there is no one to come back to.
    Finishing,
    /// No green thread is running: the call was made outside [`run`] (or on the hub's own
    /// stack). A misuse: the calls that have no error to return panic on it.
    NoGreenThread,
}

impl CannotPark {
    /// Whether the running code may not switch now, and why. (`in_green_thread`: whether a
    /// green thread is running.)
    fn now(in_green_thread: bool) -> Option<CannotPark> {
        let finishing = HUB.with(|hub| {
            hub.borrow()
                .as_ref()
                .is_some_and(|hub| hub.try_borrow().is_ok_and(|hub| hub.finishing))
        });
        if finishing {
            Some(CannotPark::Finishing)
        } else if std::thread::panicking() {
            Some(CannotPark::Unwinding)
        } else if !in_green_thread {
            Some(CannotPark::NoGreenThread)
        } else {
            None
        }
    }

    /// For the calls that have no error to return (they return at once instead): panics on
    /// [`CannotPark::NoGreenThread`], which is a mistake to point out, not a moment to live
    /// through.
    pub(crate) fn or_panic_if_misused(self) -> CannotPark {
        if self == CannotPark::NoGreenThread {
            panic!("{self}");
        }
        self
    }
}

impl std::fmt::Display for CannotPark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CannotPark::Unwinding => {
                "a green thread cannot wait while a panic unwinds (in a destructor): the other \
                 green threads would run as if they were panicking"
            }
            CannotPark::Finishing => {
                "a green thread cannot wait while run unwinds the green threads left at its end: \
                 none of them will run again"
            }
            CannotPark::NoGreenThread => {
                "a green thread's blocking call with no green thread running: call it inside \
                 step07_green_threads::run"
            }
        })
    }
}

impl std::error::Error for CannotPark {}

/// For the calls that fail with `io::Error` (the sockets, `Pool::try_spawn`): the
/// `CannotPark` is the error's inner error.
impl From<CannotPark> for io::Error {
    fn from(refused: CannotPark) -> io::Error {
        io::Error::other(refused)
    }
}
// ANCHOR_END: cannot_park

/// Lets the other ready green threads run, then comes back (gevent's `sleep(0)`). Returns at
/// once if this green thread may not switch now ([`CannotPark`]).
pub fn yield_now() {
    let running = switch::current_waker();
    if let Some(refused) = CannotPark::now(running.is_some()) {
        refused.or_panic_if_misused();
        return;
    }
    if let Some(waker) = running {
        waker.wake_by_ref();
        switch::switch_to_hub();
    }
}

// ANCHOR: timer
/// A timer of the current reactor, removed when dropped (also when a green thread's stack is
/// unwound while it waits).
pub(crate) struct Timer {
    /// The reactor it is registered with.
    reactor: Rc<RefCell<Reactor>>,
    /// Its key.
    key: TimerKey,
}

impl Timer {
    /// A timer for `deadline` on the current reactor.
    pub(crate) fn at(deadline: Instant) -> Timer {
        let reactor = Reactor::current();
        let key = reactor.borrow_mut().add_timer(deadline);
        Timer { reactor, key }
    }

    /// Whether it has fired; if not, leaves the waker of `cx` with it.
    pub(crate) fn poll_fired(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.reactor.borrow_mut().poll_timer(self.key, cx)
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.reactor.borrow_mut().remove_timer(self.key);
    }
}
// ANCHOR_END: timer

/// Blocks the current green thread for `duration`; the others run meanwhile (gevent's
/// `sleep`). `sleep(Duration::ZERO)` is [`yield_now`]. Returns at once, without sleeping, if
/// this green thread may not switch now ([`CannotPark`]: in a destructor during an unwind).
pub fn sleep(duration: Duration) {
    if duration.is_zero() {
        return yield_now();
    }
    let slept = match Instant::now().checked_add(duration) {
        Some(deadline) => {
            let timer = Timer::at(deadline);
            park_until(|cx| timer.poll_fired(cx))
        }
        // Further than the clock can count: a sleep that never ends.
        None => park_until(|_| Poll::Pending),
    };
    if let Err(refused) = slept {
        refused.or_panic_if_misused();
    }
}

// ANCHOR: wait_future
/// Waits, on the current green thread, for any future: a step 5 or step 6 future, or one of
/// another library's that its own threads will wake. Other green threads run meanwhile. While
/// it waits, the hub cannot tell a deadlock from a wake that will come from another thread,
/// so it does not call one (see [`run`]). `Err` if this green thread may not wait now
/// ([`CannotPark`]); the future is dropped then, unfinished.
pub fn wait_future<F: Future>(future: F) -> Result<F::Output, CannotPark> {
    /// Counts this wait as one the hub cannot see into, for as long as it lasts.
    struct Foreign(Option<Rc<RefCell<Hub>>>);
    impl Drop for Foreign {
        fn drop(&mut self) {
            if let Some(hub) = &self.0 {
                hub.borrow_mut().foreign_waits -= 1;
            }
        }
    }
    let hub = HUB.with(|hub| hub.borrow().clone());
    if let Some(hub) = &hub {
        hub.borrow_mut().foreign_waits += 1;
    }
    let _foreign = Foreign(hub);
    let mut future = std::pin::pin!(future);
    park_until(|cx| future.as_mut().poll(cx))
}
// ANCHOR_END: wait_future

/// Waits for every handle, in order, and returns their results (gevent's `joinall`).
pub fn join_all<T>(
    handles: impl IntoIterator<Item = JoinHandle<T>>,
) -> Vec<std::thread::Result<T>> {
    handles.into_iter().map(JoinHandle::join).collect()
}

/// How many green threads have not finished (for tests).
pub fn live_green_threads() -> usize {
    hub().borrow().threads.len()
}

// ANCHOR: resume
/// Resumes green thread `id` until it switches back or finishes.
fn resume(hub: &Rc<RefCell<Hub>>, id: u64) {
    // Take the coroutine out, so the green thread can spawn (which borrows the hub) while it
    // runs.
    let (mut coroutine, waker) = {
        let mut hub = hub.borrow_mut();
        let Some(thread) = hub.threads.get_mut(&id) else {
            return; // finished since it was woken
        };
        let Some(coroutine) = thread.coroutine.take() else {
            return;
        };
        (coroutine, Arc::clone(&thread.waker))
    };
    waker.unqueued();
    // The switch: this stack's registers saved, the green thread's restored. It runs until it
    // calls `switch_to_hub` (Yield) or its closure returns (Return).
    match coroutine.resume(()) {
        CoroutineResult::Yield(()) => {
            if let Some(thread) = hub.borrow_mut().threads.get_mut(&id) {
                thread.coroutine = Some(coroutine);
            }
        }
        CoroutineResult::Return(()) => {
            let mut hub = hub.borrow_mut();
            hub.threads.remove(&id);
            if hub.stacks.len() < STACKS_KEPT {
                hub.stacks.push(coroutine.into_stack());
            }
        }
    }
}
// ANCHOR_END: resume

/// The runtime of one `run`: a reactor, a run queue and a hub, installed on this thread until
/// it is dropped. Step 5's `Runtime`, with a hub for an executor.
struct Runtime {
    /// The hub.
    hub: Rc<RefCell<Hub>>,
    /// Its queue of woken green threads.
    queue: RunQueue,
    /// Unwinds the green threads left, then uninstalls the hub. (Fields drop in order: this
    /// goes before the reactor is uninstalled, so their destructors can still use it.)
    _hub_guard: HubGuard,
    /// Uninstalls the reactor.
    _reactor_guard: CurrentGuard,
    /// The reactor.
    reactor: Rc<RefCell<Reactor>>,
}

impl Runtime {
    /// Creates the hub and installs it on this thread. Panics inside another `run`, or if the
    /// kernel refuses the reactor (as step 5's `block_on` does).
    fn start(stack_size: usize) -> Runtime {
        assert!(
            HUB.with(|hub| hub.borrow().is_none()),
            "run inside run: a hub cannot wait for itself"
        );
        let reactor = Rc::new(RefCell::new(
            Reactor::new().expect("create the reactor (epoll)"),
        ));
        let queue = RunQueue::new(reactor.borrow().interrupter());
        let hub = Rc::new(RefCell::new(Hub {
            threads: HashMap::new(),
            next_id: 0,
            queue: queue.clone(),
            stack_size,
            stacks: Vec::new(),
            foreign_waits: 0,
            finishing: false,
        }));
        HUB.with(|current| *current.borrow_mut() = Some(Rc::clone(&hub)));
        Runtime {
            _hub_guard: HubGuard(Rc::clone(&hub)),
            hub,
            queue,
            _reactor_guard: Reactor::enter(Rc::clone(&reactor)),
            reactor,
        }
    }

    // ANCHOR: check_for_deadlock
    /// gevent's `LoopExit`: panics if no green thread can ever be woken again. Nothing is
    /// queued, nothing waits at the reactor for a socket or a timer, and no green thread waits
    /// in [`wait_future`] for something another OS thread may bring; so every green thread
    /// waits for another. Sleeping in the reactor now would be sleeping forever.
    fn check_for_deadlock(&self) {
        if self.queue.is_empty()
            && self.reactor.borrow().waiting_wakers() == 0
            && self.hub.borrow().foreign_waits == 0
        {
            panic!(
                "every green thread is waiting, and for nothing a socket, a timer or another \
                 thread could bring: they would wait forever (gevent's LoopExit). (A wake that \
                 comes from another OS thread must be waited for with hub::wait_future, \
                 which the hub counts; park_until's wakers are taken to stay on this thread.)"
            );
        }
    }
    // ANCHOR_END: check_for_deadlock
}

/// Uninstalls the hub when `run` ends, however it ends, after unwinding the stacks of the green
/// threads still alive (their destructors run: sockets close, timers go).
struct HubGuard(Rc<RefCell<Hub>>);

impl Drop for HubGuard {
    fn drop(&mut self) {
        // From now on no green thread runs again: a blocking call in a destructor returns at
        // once (CannotPark::Finishing) instead of switching to a hub that is gone.
        self.0.borrow_mut().finishing = true;
        loop {
            let threads = std::mem::take(&mut self.0.borrow_mut().threads);
            if threads.is_empty() {
                break;
            }
            // Outside the borrow: unwinding a green thread runs its destructors, which may use
            // the hub.
            drop(threads);
        }
        HUB.with(|hub| hub.borrow_mut().take());
    }
}

/// [`run_with_stack`] with [`STACK_SIZE`].
pub fn run<T: 'static>(main: impl FnOnce() -> T + 'static) -> T {
    run_with_stack(STACK_SIZE, main)
}

// ANCHOR: run
/// Runs `main` on a green thread, with a hub and a reactor on this OS thread, until it returns;
/// green threads it spawns run alongside it, on stacks of `stack_size` bytes. Returns what
/// `main` returns (a panic in `main` is resumed here). Green threads still alive at the end are
/// unwound and dropped; a blocking call in their destructors returns at once
/// ([`CannotPark::Finishing`]). Panics if called inside another `run`, and if every green
/// thread waits for something no one can cause (gevent's `LoopExit`): nothing is queued,
/// nothing waits at the reactor, and no green thread is in [`wait_future`]. A waker handed to
/// another OS thread from [`park_until`] is invisible to that check; wait for such a wake with
/// `wait_future`, as gevent wants such wakes to come through its hub's thread pool or an
/// async watcher.
pub fn run_with_stack<T: 'static>(stack_size: usize, main: impl FnOnce() -> T + 'static) -> T {
    let runtime = Runtime::start(stack_size);
    let main = spawn(main);
    'hub: loop {
        // Resume what was woken, in order, but not forever (see RESUMES_BETWEEN_TURNS).
        for _ in 0..RESUMES_BETWEEN_TURNS {
            let Some(id) = runtime.queue.pop() else { break };
            resume(&runtime.hub, id);
            if main.is_finished() {
                break 'hub;
            }
        }
        runtime.check_for_deadlock();
        // Ask the kernel: sleep until someone is woken, or only look if some are queued.
        runtime
            .queue
            .sleep_or_peek(&runtime.reactor)
            .expect("the reactor's wait failed");
    }
    match main.slot.borrow_mut().result.take() {
        Some(Ok(value)) => value,
        Some(Err(panic)) => panic::resume_unwind(panic),
        None => unreachable!("the loop ends when main has finished"),
    }
}
// ANCHOR_END: run
