//! The runtime of this step, built up in three small pieces before the real one: each piece is
//! run by a program of its own (`toy_block_on`, `toy_executor`, `toy_reactor`), and each grows
//! into a part of `runtime/`.
//!
//! 1. [`block_on`]: one future, one thread. Poll; if not ready, park the thread until the waker
//!    unparks it; poll again. The waker is a handle to the parked thread.
//! 2. [`Executor`]: many futures. Each becomes a task with a number; its waker puts the number
//!    in a queue. The loop polls only the tasks in the queue, and parks when it is empty.
//! 3. [`Reactor`]: waits for sockets without a thread per wait. A future that finds its socket
//!    not ready leaves its waker with the reactor under the socket's token; when no task is
//!    queued, the loop asks the kernel (`epoll_wait`, through mio) which sockets are ready, and
//!    wakes their wakers.
//!
//! The toys leave out what the real runtime needs for speed and for safety at the edges
//! (timers in the reactor, readiness kept between polls, a sleep that another thread can
//! interrupt, tasks that spawn tasks); the chapter shows each where it is added.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io::{self, Read};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use mio::{Events, Interest, Token};

// ANCHOR: toy_block_on
/// A waker that unparks a thread.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread: poll it; while it is not ready, park the thread
/// until its waker unparks it, and poll again.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // Sleep until woken. (A park may also end for no reason: then we poll once for
        // nothing, and the future says Pending again.)
        thread::park();
    }
}
// ANCHOR_END: toy_block_on

// ANCHOR: delay
/// A future that is ready `duration` after its first poll. It has no reactor to wait with, so
/// at its first poll it starts a helper thread that sleeps, then wakes the waker it was given.
pub struct Delay {
    /// How long.
    duration: Duration,
    /// Shared with the helper thread: whether the time is up, and whom to wake.
    state: Option<Arc<Mutex<(bool, Waker)>>>,
}

impl Delay {
    /// Ready `duration` after its first poll.
    pub fn new(duration: Duration) -> Delay {
        Delay {
            duration,
            state: None,
        }
    }
}

impl Future for Delay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let duration = self.duration;
        let state = self.state.get_or_insert_with(|| {
            // The first poll: start the helper thread.
            let state = Arc::new(Mutex::new((false, cx.waker().clone())));
            let theirs = Arc::clone(&state);
            thread::spawn(move || {
                thread::sleep(duration);
                let mut state = testbed::lock(&theirs);
                state.0 = true;
                state.1.wake_by_ref();
            });
            state
        });
        let mut state = testbed::lock(state);
        if state.0 {
            return Poll::Ready(());
        }
        // Not yet: leave the current waker, for the helper thread to wake (the contract).
        state.1 = cx.waker().clone();
        Poll::Pending
    }
}
// ANCHOR_END: delay

// ANCHOR: toy_executor
/// A task's waker: waking it puts the task's number in the queue and unparks the loop.
struct TaskWaker {
    /// The task.
    id: usize,
    /// The numbers of the tasks to poll.
    queue: Arc<Mutex<VecDeque<usize>>>,
    /// The loop's thread, parked when the queue is empty.
    thread: Thread,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        testbed::lock(&self.queue).push_back(self.id);
        self.thread.unpark();
    }
}

/// Many futures on one thread: each a task with a number, polled when its waker has queued it.
pub struct Executor {
    /// The tasks, by number (`None` once finished).
    tasks: Vec<Option<Pin<Box<dyn Future<Output = ()>>>>>,
    /// The numbers of the tasks to poll, in the order they were woken.
    queue: Arc<Mutex<VecDeque<usize>>>,
}

impl Executor {
    /// An executor with no tasks.
    pub fn new() -> Executor {
        Executor {
            tasks: Vec::new(),
            queue: Arc::default(),
        }
    }

    /// Adds a task. It is queued, so the first turn of `run` polls it.
    pub fn spawn(&mut self, future: impl Future<Output = ()> + 'static) {
        testbed::lock(&self.queue).push_back(self.tasks.len());
        self.tasks.push(Some(Box::pin(future)));
    }

    /// Runs every task to completion: polls the queued ones; when none is queued, calls
    /// `wait` (parking the thread, or asking a reactor), which returns once something woke.
    /// Returns how many polls it made.
    pub fn run(&mut self, mut wait: impl FnMut()) -> usize {
        let (mut unfinished, mut polls) = (self.tasks.len(), 0);
        while unfinished > 0 {
            let next = testbed::lock(&self.queue).pop_front();
            let Some(id) = next else {
                wait();
                continue;
            };
            let Some(task) = self.tasks[id].as_mut() else {
                continue; // finished already: a late wake
            };
            let waker = Waker::from(Arc::new(TaskWaker {
                id,
                queue: Arc::clone(&self.queue),
                thread: thread::current(),
            }));
            polls += 1;
            if task
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
            {
                self.tasks[id] = None;
                unfinished -= 1;
            }
        }
        polls
    }
}
// ANCHOR_END: toy_executor

impl Default for Executor {
    fn default() -> Executor {
        Executor::new()
    }
}

// ANCHOR: toy_reactor
/// Waits for many sockets in one system call, and wakes the futures waiting for them.
pub struct Reactor {
    /// mio's `Poll`: epoll, on Linux.
    poll: mio::Poll,
    /// The waker waiting for each socket's token.
    wakers: HashMap<Token, Waker>,
}

impl Reactor {
    /// A reactor with no socket registered.
    pub fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            poll: mio::Poll::new()?,
            wakers: HashMap::new(),
        })
    }

    /// Registers `socket` under `token`, to be told when it becomes readable.
    pub fn register(&self, socket: &mut mio::net::TcpStream, token: Token) -> io::Result<()> {
        self.poll
            .registry()
            .register(socket, token, Interest::READABLE)
    }

    /// A future waiting for `token` leaves its waker here.
    pub fn wait_for(&mut self, token: Token, waker: &Waker) {
        self.wakers.insert(token, waker.clone());
    }

    /// Sleeps in the kernel until at least one registered socket is ready, then wakes the
    /// futures waiting for the ready ones. Returns how many it woke.
    pub fn turn(&mut self) -> io::Result<usize> {
        let mut events = Events::with_capacity(64);
        self.poll.poll(&mut events, None)?;
        let mut woken = 0;
        for event in events.iter() {
            if let Some(waker) = self.wakers.remove(&event.token()) {
                waker.wake();
                woken += 1;
            }
        }
        Ok(woken)
    }
}

/// Reads `socket` to end-of-file: each read that says `WouldBlock` leaves the task's waker
/// with the reactor, under the socket's token, and returns `Pending`.
pub struct ReadToEnd {
    /// The socket, registered with `reactor` under `token`.
    socket: mio::net::TcpStream,
    /// Its token.
    token: Token,
    /// The reactor.
    reactor: Rc<RefCell<Reactor>>,
    /// What has been read so far.
    bytes: Vec<u8>,
}

impl Future for ReadToEnd {
    type Output = io::Result<Vec<u8>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut buf = [0u8; 4096];
        loop {
            match this.socket.read(&mut buf) {
                Ok(0) => return Poll::Ready(Ok(std::mem::take(&mut this.bytes))),
                Ok(n) => this.bytes.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Not ready: wait with the reactor. (mio reports each change of readiness
                    // once: the read just said there is nothing left, so the next report
                    // will be about new bytes.)
                    this.reactor.borrow_mut().wait_for(this.token, cx.waker());
                    return Poll::Pending;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}
// ANCHOR_END: toy_reactor

impl ReadToEnd {
    /// How many bytes it has read so far.
    pub fn bytes_so_far(&self) -> usize {
        self.bytes.len()
    }

    /// Registers `socket` (connected, its request sent) with `reactor` under `token`, and
    /// returns the future of its response.
    pub fn new(
        socket: std::net::TcpStream,
        token: Token,
        reactor: &Rc<RefCell<Reactor>>,
    ) -> io::Result<ReadToEnd> {
        socket.set_nonblocking(true)?;
        let mut socket = mio::net::TcpStream::from_std(socket);
        reactor.borrow().register(&mut socket, token)?;
        Ok(ReadToEnd {
            socket,
            token,
            reactor: Rc::clone(reactor),
            bytes: Vec::new(),
        })
    }
}
