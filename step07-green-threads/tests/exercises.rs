//! Worked solutions of chapter 7's exercises (green threads): how small a stack can be, a green
//! queue, a deadline per green thread (and a kill), step 6's futures on the hub, and a blocking
//! library call on the hub, then on an OS thread.
//!
//! Where an exercise asks for new library code, it is written here as a small module on the
//! crate's public API (`hub::park_until`, `hub::wait_future`, `net::TcpStream`).

use std::cell::Cell;
use std::hint::black_box;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use step07_green_threads::hub::{self, wait_future};
use step07_green_threads::net::TcpStream;
use step07_green_threads::{Options, fan_out, join_all, run, sleep, spawn};
use testbed::server::delay_response;
use testbed::{ServerConfig, ServerHandle, Target, Workload};

/// The embedded delay server.
fn server() -> ServerHandle {
    ServerHandle::start(ServerConfig::default()).expect("start the delay server")
}

// ANCHOR: small_stack
/// Step 1's exchange with a read buffer of `N` bytes on the stack, on a green `TcpStream`:
/// connect, send, read until the server closes. Returns the bytes read.
fn get_with_buffer<const N: usize>(target: &Target) -> io::Result<usize> {
    let mut stream = TcpStream::connect_timeout(&target.addr, Duration::from_secs(10))?;
    stream.write_all(&target.request())?;
    let mut buf = [0u8; N]; // on this green thread's stack
    let mut total = 0;
    loop {
        match stream.read(&mut buf)? {
            0 => return Ok(total),
            n => total += black_box(&buf[..n]).len(),
        }
    }
}

/// The child side of the overflow test (run by `a_32_kib_buffer_kills_a_16_kib_green_thread`
/// in a process of its own, since it may die): green threads with 16 KiB stacks, running the
/// fan-out (`EXERCISE_BUFFER_KIB` = 0) or one request with a read buffer of 8 or 32 KiB.
#[test]
#[ignore = "run as a child process by a_32_kib_buffer_kills_a_16_kib_green_thread"]
fn overflow_child() {
    let addr: SocketAddr = std::env::var("EXERCISE_SERVER").unwrap().parse().unwrap();
    let target = Target::new(addr, "/delay/0");
    if std::env::var("EXERCISE_BUFFER_KIB").unwrap() == "0" {
        let workload = Workload::uniform(target, 20, Duration::from_secs(10));
        let small = Options {
            stack_size: 16 * 1024,
            ..Options::default()
        };
        assert!(fan_out(&workload, small).iter().all(|r| r.ok));
        return;
    }
    let bytes = hub::run_with_stack(16 * 1024, move || {
        let kib: usize = std::env::var("EXERCISE_BUFFER_KIB")
            .unwrap()
            .parse()
            .unwrap();
        let handle = match kib {
            8 => spawn(move || get_with_buffer::<{ 8 * 1024 }>(&target)),
            32 => spawn(move || get_with_buffer::<{ 32 * 1024 }>(&target)),
            _ => panic!("8 or 32"),
        };
        handle.join().unwrap().unwrap()
    });
    println!("read {bytes} bytes");
}

/// Runs `overflow_child` in a new process with a buffer of `kib` KiB; returns how it ended
/// and what it wrote to stderr.
fn run_child(server: SocketAddr, kib: usize) -> (std::process::ExitStatus, String) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "overflow_child", "--nocapture"])
        .env("EXERCISE_SERVER", server.to_string())
        .env("EXERCISE_BUFFER_KIB", kib.to_string())
        .output()
        .expect("run the child");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

/// On 16 KiB stacks, a request with an 8 KiB buffer works; with a 32 KiB buffer the process
/// dies of SIGSEGV (the guard page), without Rust's "has overflowed its stack" message. The
/// whole fan-out fits in 16 KiB in a release build; a debug build's bigger frames do not.
#[test]
fn a_32_kib_buffer_kills_a_16_kib_green_thread() {
    use std::os::unix::process::ExitStatusExt as _;
    let server = server();
    let (status, stderr) = run_child(server.addr(), 0);
    if cfg!(debug_assertions) {
        assert_eq!(
            status.signal(),
            Some(11),
            "debug fan-out: {status:?}, {stderr}"
        );
    } else {
        assert!(status.success(), "release fan-out: {status:?}, {stderr}");
    }
    let (status, _) = run_child(server.addr(), 8);
    assert!(status.success(), "8 KiB buffer: {status:?}");
    let (status, stderr) = run_child(server.addr(), 32);
    assert_eq!(
        status.signal(),
        Some(11),
        "32 KiB buffer: {status:?}, {stderr}"
    );
    assert!(!stderr.contains("overflowed its stack"), "{stderr}");
}
// ANCHOR_END: small_stack

// ANCHOR: stack_depth
/// The resident size, in KiB, of the mapping of this process that contains `address`, from
/// `/proc/self/smaps`, with the mapping's size: `(size_kib, rss_kib)`.
fn resident_kib_around(address: usize) -> (u64, u64) {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut inside = false;
    let mut size = None;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            inside = (start..end).contains(&address);
            continue;
        }
        let kib = || {
            line.split_whitespace()
                .nth(1)
                .unwrap()
                .parse::<u64>()
                .unwrap()
        };
        if inside && line.starts_with("Size:") {
            size = Some(kib());
        }
        if inside && line.starts_with("Rss:") {
            return (size.unwrap(), kib());
        }
    }
    panic!("no mapping contains {address:#x}");
}

/// How deep step 7's `fetch` goes: a green thread remembers where its stack is and runs
/// `fetch`; its finished stack stays mapped (the hub keeps it for reuse), and its resident
/// pages are the ones it touched, which `/proc/self/smaps` reports.
#[test]
fn deepest_stack_use_of_fetch_from_smaps() {
    let (_server, workload) = Workload::zero_delay(1).unwrap();
    let (size, rss) = run(move || {
        let handle = spawn(move || {
            let marker = 0u8;
            let address = black_box(&marker) as *const u8 as usize;
            let result = step07_green_threads::fetch::fetch(&workload, 0);
            assert!(result.ok, "{result:?}");
            address
        });
        let address = handle.join().unwrap();
        resident_kib_around(address)
    });
    println!("stack mapping: {size} KiB, touched: {rss} KiB");
    assert_eq!(size, hub::STACK_SIZE as u64 / 1024, "not the green stack");
    // The 8 KiB read buffer alone is two pages; the default stack is not all used.
    assert!(rss >= 8 && rss < size, "{rss} KiB touched");
}
// ANCHOR_END: stack_depth

// ANCHOR: queue
/// gevent's `Queue`: `put` never blocks, `get` parks until an item is there.
mod queue {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;
    use std::task::{Poll, Waker};

    use step07_green_threads::hub::{CannotPark, park_until};

    /// The items and the green threads waiting for one.
    struct State<T> {
        items: VecDeque<T>,
        getters: VecDeque<Waker>,
    }

    /// A FIFO queue between the green threads of one hub. Clones share it.
    pub struct Queue<T> {
        state: Rc<RefCell<State<T>>>,
    }

    impl<T> Clone for Queue<T> {
        fn clone(&self) -> Self {
            Queue {
                state: Rc::clone(&self.state),
            }
        }
    }

    impl<T> Queue<T> {
        /// An empty queue.
        pub fn new() -> Queue<T> {
            Queue {
                state: Rc::new(RefCell::new(State {
                    items: VecDeque::new(),
                    getters: VecDeque::new(),
                })),
            }
        }

        /// Adds an item and wakes the green thread that has waited longest, if any.
        pub fn put(&self, item: T) {
            let woken = {
                let mut state = self.state.borrow_mut();
                state.items.push_back(item);
                state.getters.pop_front()
            };
            if let Some(waker) = woken {
                waker.wake(); // outside the borrow
            }
        }

        /// Takes the oldest item, parking this green thread until there is one (`Err` if it
        /// may not wait now: in a destructor during an unwind).
        pub fn get(&self) -> Result<T, CannotPark> {
            let waited = park_until(|cx| {
                let mut state = self.state.borrow_mut();
                match state.items.pop_front() {
                    Some(item) => {
                        // Not waiting any more: take our waker out if it is still there.
                        state.getters.retain(|w| !w.will_wake(cx.waker()));
                        // Items left and someone waiting (a wake may have been spent on a
                        // green thread that arrived first): pass the baton on.
                        let next = match state.items.is_empty() {
                            false => state.getters.pop_front(),
                            true => None,
                        };
                        Poll::Ready((item, next))
                    }
                    None => {
                        if !state.getters.iter().any(|w| w.will_wake(cx.waker())) {
                            state.getters.push_back(cx.waker().clone());
                        }
                        Poll::Pending
                    }
                }
            });
            let (item, next) = match waited {
                Ok(got) => got,
                Err(refused) => {
                    // Could not wait: take our waker back, or a later `put` would spend its
                    // wake on it. (A poll that is ready at once hands us that very waker.)
                    let ours = park_until(|cx| Poll::Ready(cx.waker().clone()))?;
                    self.state
                        .borrow_mut()
                        .getters
                        .retain(|w| !w.will_wake(&ours));
                    return Err(refused);
                }
            };
            if let Some(waker) = next {
                waker.wake();
            }
            Ok(item)
        }
    }
}

use queue::Queue;

/// Three consumers, a producer that sleeps between items: every item is taken once, and the
/// consumers take turns (the longest waiting is woken first). `None` tells a consumer to stop.
#[test]
fn queue_feeds_three_consumers_in_turn() {
    let taken = run(|| {
        let queue: Queue<Option<u32>> = Queue::new();
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let queue = queue.clone();
                spawn(move || {
                    let mut got = Vec::new();
                    while let Ok(Some(item)) = queue.get() {
                        got.push(item);
                    }
                    got
                })
            })
            .collect();
        let producer = spawn(move || {
            for item in 0..30 {
                queue.put(Some(item));
                sleep(Duration::from_millis(1));
            }
            for _ in 0..3 {
                queue.put(None);
            }
        });
        producer.join().unwrap();
        join_all(consumers)
            .into_iter()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
    });
    for (k, got) in taken.iter().enumerate() {
        let expected: Vec<u32> = (0..30).filter(|i| i % 3 == k as u32).collect();
        assert_eq!(got, &expected, "consumer {k}");
    }
}

/// Without the `None`s, the consumers wait for an item no one will put: nothing is queued,
/// nothing waits at the reactor, and the hub panics (gevent's `LoopExit`) instead of sleeping
/// forever.
#[test]
fn queue_with_no_producer_left_is_a_loop_exit() {
    let outcome = std::panic::catch_unwind(|| {
        run(|| {
            let queue: Queue<u32> = Queue::new();
            let consumers: Vec<_> = (0..3)
                .map(|_| {
                    let queue = queue.clone();
                    spawn(move || while queue.get().unwrap() < u32::MAX {})
                })
                .collect();
            let producer = spawn(move || {
                for item in 0..10 {
                    queue.put(item);
                    sleep(Duration::from_millis(1));
                }
            });
            producer.join().unwrap();
            join_all(consumers);
        })
    });
    let panic = outcome.expect_err("the hub should have given up");
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(message.contains("LoopExit"), "{message}");
}
// ANCHOR_END: queue

// ANCHOR: deadline
/// A deadline and a kill switch per green thread, on the public API. A green thread is known
/// by its waker (the hub gives each its own, and `will_wake` compares them), which is the one
/// thing of the running green thread that `park_until` hands out.
mod deadline {
    use std::cell::{Cell, RefCell};
    use std::io::{self, ErrorKind, Read, Write};
    use std::net::SocketAddr;
    use std::rc::Rc;
    use std::task::{Context, Poll, Waker};
    use std::time::{Duration, Instant};

    use step07_green_threads::hub::{JoinHandle, park_until, spawn};
    use step07_green_threads::net::TcpStream;

    /// What is kept for one green thread.
    struct Entry {
        /// Which green thread.
        green: Waker,
        /// Tells the entries apart, for removal.
        id: u64,
        /// Its deadline, if it set one.
        deadline: Option<Instant>,
        /// Set by `kill`.
        killed: Option<Rc<Cell<bool>>>,
    }

    thread_local! {
        /// Shared by all green threads of this OS thread; each looks up its own entries.
        static ENTRIES: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
        static NEXT_ID: Cell<u64> = const { Cell::new(0) };
    }

    /// The running green thread's waker: `park_until` hands it to a poll that returns at once.
    fn current() -> Waker {
        park_until(|cx| Poll::Ready(cx.waker().clone())).expect("ready at the first poll")
    }

    /// Removes an entry when its scope ends (returning or unwinding).
    struct Remove(u64);

    impl Drop for Remove {
        fn drop(&mut self) {
            ENTRIES.with(|e| e.borrow_mut().retain(|entry| entry.id != self.0));
        }
    }

    fn add(green: Waker, deadline: Option<Instant>, killed: Option<Rc<Cell<bool>>>) -> Remove {
        let id = NEXT_ID.with(|n| n.replace(n.get() + 1));
        ENTRIES.with(|e| {
            e.borrow_mut().push(Entry {
                green,
                id,
                deadline,
                killed,
            })
        });
        Remove(id)
    }

    /// Runs `f` with `deadline` on the current green thread (nested ones: the earliest wins).
    pub fn with_deadline<T>(deadline: Instant, f: impl FnOnce() -> T) -> T {
        let _remove = add(current(), Some(deadline), None);
        f()
    }

    /// The current green thread's deadline, if any.
    pub fn deadline() -> Option<Instant> {
        let me = current();
        ENTRIES.with(|e| {
            e.borrow()
                .iter()
                .filter(|entry| entry.green.will_wake(&me))
                .filter_map(|entry| entry.deadline)
                .min()
        })
    }

    /// Whether the green thread polling with `cx` has been killed.
    fn killed(cx: &Context<'_>) -> bool {
        ENTRIES.with(|e| {
            e.borrow().iter().any(|entry| {
                entry.green.will_wake(cx.waker()) && entry.killed.as_ref().is_some_and(|k| k.get())
            })
        })
    }

    /// What a killed green thread's blocking calls fail with. Not `Interrupted`: code such as
    /// `fetch` retries those.
    pub fn killed_error() -> io::Error {
        io::Error::new(ErrorKind::ConnectionAborted, "the green thread was killed")
    }

    /// `park_until` that a `kill` ends: the flag is checked at every poll, and `kill` wakes the
    /// green thread so that it polls.
    pub fn park_killable<T>(mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>) -> io::Result<T> {
        park_until(|cx| {
            if killed(cx) {
                return Poll::Ready(Err(killed_error()));
            }
            poll(cx).map(Ok)
        })?
    }

    /// Kills a green thread spawned by [`spawn_killable`].
    pub struct KillSwitch {
        killed: Rc<Cell<bool>>,
        green: Rc<RefCell<Option<Waker>>>,
    }

    impl KillSwitch {
        /// Sets the flag and wakes the green thread, wherever it waits.
        pub fn kill(&self) {
            self.killed.set(true);
            if let Some(waker) = self.green.borrow().as_ref() {
                waker.wake_by_ref();
            }
        }
    }

    /// `spawn`, plus a switch that makes the green thread's killable waits fail.
    pub fn spawn_killable<T: 'static>(
        f: impl FnOnce() -> T + 'static,
    ) -> (JoinHandle<T>, KillSwitch) {
        let (killed, green) = (Rc::new(Cell::new(false)), Rc::new(RefCell::new(None)));
        let switch = KillSwitch {
            killed: Rc::clone(&killed),
            green: Rc::clone(&green),
        };
        let handle = spawn(move || {
            let me = current();
            *green.borrow_mut() = Some(me.clone());
            let _remove = add(me, None, Some(killed));
            f()
        });
        (handle, switch)
    }

    /// What is left before the deadline: `None` (no deadline), or a timeout; `TimedOut` if it
    /// has passed.
    fn time_left() -> io::Result<Option<Duration>> {
        match deadline() {
            None => Ok(None),
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Ok(Some(left)),
                _ => Err(io::Error::new(ErrorKind::TimedOut, "deadline passed")),
            },
        }
    }

    /// A green `TcpStream` whose calls respect the calling green thread's deadline: what
    /// `Socket::blocking` would do inside the library, done around each call.
    pub struct Stream(TcpStream);

    impl Stream {
        /// Connects, within what is left of the deadline.
        pub fn connect(addr: SocketAddr) -> io::Result<Stream> {
            Ok(Stream(match time_left()? {
                Some(left) => TcpStream::connect_timeout(&addr, left)?,
                None => TcpStream::connect(addr)?,
            }))
        }
    }

    impl Read for Stream {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.0.set_read_timeout(time_left()?)?;
            self.0.read(buf)
        }
    }

    impl Write for Stream {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.set_write_timeout(time_left()?)?;
            self.0.write(buf)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}

use deadline::{Stream, deadline, park_killable, spawn_killable, with_deadline};

/// A request to `target` through the deadline-aware stream: the bytes of the response.
fn get_within_deadline(target: &Target) -> io::Result<Vec<u8>> {
    let mut stream = Stream::connect(target.addr)?;
    stream.write_all(&target.request())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(response)
}

/// A deadline belongs to one green thread: green thread A's request under a 100 ms deadline
/// times out on a server that waits 3 s, while green thread B, running meanwhile, sees no
/// deadline and gets its whole response.
#[test]
fn a_deadline_covers_every_call_of_one_green_thread() {
    let server = server();
    let slow = Target::new(server.addr(), "/delay/3000");
    let quick = Target::new(server.addr(), "/delay/300");
    let (a, b) = run(move || {
        let a = spawn(move || {
            with_deadline(Instant::now() + Duration::from_millis(100), || {
                assert!(deadline().is_some());
                get_within_deadline(&slow)
            })
        });
        let b = spawn(move || {
            let seen = deadline(); // runs while A waits inside its deadline
            (seen, get_within_deadline(&quick))
        });
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(a.unwrap_err().kind(), ErrorKind::TimedOut);
    let (seen, response) = b;
    assert_eq!(seen, None, "B saw A's deadline");
    assert_eq!(
        response.unwrap(),
        delay_response(Duration::from_millis(300))
    );
}

/// A kill from another green thread ends a wait that would otherwise last forever (a wait for
/// nothing: its poll leaves the waker nowhere), with an error, not a hang.
#[test]
fn a_kill_ends_a_wait_from_outside() {
    let (result, was_waiting) = run(|| {
        let waiting = Rc::new(Cell::new(false));
        let (victim, switch) = {
            let waiting = Rc::clone(&waiting);
            spawn_killable(move || {
                waiting.set(true);
                park_killable(|_| Poll::<()>::Pending)
            })
        };
        sleep(Duration::from_millis(10)); // the victim runs, and parks
        let was_waiting = waiting.get() && !victim.is_finished();
        switch.kill();
        (victim.join().unwrap(), was_waiting)
    });
    assert!(was_waiting, "the victim was not waiting before the kill");
    assert_eq!(result.unwrap_err().kind(), ErrorKind::ConnectionAborted);
}
// ANCHOR_END: deadline

// ANCHOR: futures_on_hub
/// Step 6's `async fn fetch`, awaited on green threads with `wait_future`: its socket and its
/// timer find the hub's reactor (step 5's, installed by `run`), register there, and the hub
/// turns it. Ten of them overlap on the one OS thread.
#[test]
fn step06_futures_on_the_hub_use_its_reactor() {
    let server = server();
    let workload = Workload::uniform(
        Target::new(server.addr(), "/delay/100"),
        10,
        Duration::from_secs(10),
    );
    let results = run(move || {
        let handles: Vec<_> = (0..workload.len())
            .map(|id| {
                let target = workload.targets[id].clone();
                let (record, check) = (workload.record(id), workload.response_check());
                spawn(move || {
                    let began = Instant::now();
                    let got = wait_future(step06_async_await::fetch::fetch(target, record, check))
                        .expect("an ordinary green thread may wait");
                    (began, Instant::now(), got)
                })
            })
            .collect();
        join_all(handles)
    });
    let expected = delay_response(Duration::from_millis(100)).len() as u64;
    let mut spans = Vec::new();
    for result in results {
        let (began, ended, got) = result.unwrap();
        assert!(got.ok, "{got:?}");
        assert_eq!(got.bytes, expected);
        spans.push((began, ended));
    }
    let last_began = spans.iter().map(|s| s.0).max().unwrap();
    let first_ended = spans.iter().map(|s| s.1).min().unwrap();
    assert!(
        last_began < first_ended,
        "the requests ran one after another"
    );
}
// ANCHOR_END: futures_on_hub

// ANCHOR: blocking_library
/// What a library written for `std::net` does: connect, send, read to the end, all blocking.
fn std_get(addr: SocketAddr, path: &str) -> io::Result<usize> {
    let target = Target::new(addr, path);
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.write_all(&target.request())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)
}

/// Twenty green threads fetch from a server that answers at once, while one more green thread
/// calls the library's `std_get` on `/delay/500`, either on the hub itself or on an OS thread
/// whose result comes back through a oneshot channel. Returns how many of the twenty finished
/// while the library call was going on.
fn finished_during_library_call(on_os_thread: bool) -> usize {
    let server = server();
    let workload = Workload::uniform(
        Target::new(server.addr(), "/delay/0"),
        20,
        Duration::from_secs(10),
    );
    let addr = server.addr();
    run(move || {
        let workload = Rc::new(workload);
        let others: Vec<_> = (0..workload.len())
            .map(|id| {
                let workload = Rc::clone(&workload);
                spawn(move || {
                    let result = step07_green_threads::fetch::fetch(&workload, id);
                    assert!(result.ok, "{result:?}");
                    Instant::now()
                })
            })
            .collect();
        let library = spawn(move || {
            let began = Instant::now();
            let bytes = if on_os_thread {
                let (tx, rx) = futures::channel::oneshot::channel();
                std::thread::spawn(move || tx.send(std_get(addr, "/delay/500")));
                let sent = wait_future(rx).expect("an ordinary green thread may wait");
                sent.expect("the thread sends before it ends")
            } else {
                std_get(addr, "/delay/500") // blocks the OS thread: the hub and everyone
            };
            assert!(bytes.unwrap() > 0);
            (began, Instant::now())
        });
        let (began, ended) = library.join().unwrap();
        join_all(others)
            .into_iter()
            .map(Result::unwrap)
            .filter(|done| (began..ended).contains(done))
            .count()
    })
}

/// On the hub, std's blocking call stops every green thread: none of the twenty finishes
/// while it waits. On an OS thread, awaited with `wait_future`, all twenty do.
#[test]
fn a_blocking_library_call_stops_the_hub_unless_moved_to_a_thread() {
    assert_eq!(finished_during_library_call(false), 0);
    assert_eq!(finished_during_library_call(true), 20);
}
// ANCHOR_END: blocking_library

/// A deadline ends with its scope: after `with_deadline` returns, the same green thread has no
/// deadline any more.
#[test]
fn a_deadline_ends_with_its_scope() {
    let after = run(|| {
        with_deadline(Instant::now() + Duration::from_secs(60), || {
            assert!(deadline().is_some())
        });
        deadline()
    });
    assert_eq!(after, None);
}
