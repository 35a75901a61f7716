//! The hub and its primitives: spawning and joining, switching at blocking calls only, timers,
//! panics, deadlock detection, Event, Pool, waiting on futures, and cleanup.

use std::cell::{Cell, RefCell};
use std::io::{ErrorKind, Read};
use std::net::TcpListener as StdListener;
use std::rc::Rc;
use std::time::{Duration, Instant};

use step07_green_threads::hub::{self, live_green_threads, wait_future};
use step07_green_threads::net::TcpStream;
use step07_green_threads::sync::{Event, Pool};
use step07_green_threads::{join_all, run, sleep, spawn, yield_now};

/// `run` returns what its closure returns, and `join` what each green thread returns, in order.
#[test]
fn run_and_join_return_results() {
    let results = run(|| {
        let handles: Vec<_> = (0..10).map(|i| spawn(move || i * i)).collect();
        join_all(handles)
            .into_iter()
            .map(|r| r.unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(results, (0..10).map(|i| i * i).collect::<Vec<_>>());
}

/// A green thread runs without interruption until it makes a blocking call: two green threads
/// that yield after each step interleave; without the yield, each runs to the end first.
#[test]
fn green_threads_switch_only_at_blocking_calls() {
    let order = |yielding: bool| {
        run(move || {
            let log = Rc::new(RefCell::new(String::new()));
            let handles: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|name| {
                    let log = Rc::clone(&log);
                    spawn(move || {
                        for _ in 0..3 {
                            log.borrow_mut().push_str(name);
                            if yielding {
                                yield_now();
                            }
                        }
                    })
                })
                .collect();
            join_all(handles);
            Rc::try_unwrap(log).unwrap().into_inner()
        })
    };
    assert_eq!(order(true), "ababab");
    assert_eq!(order(false), "aaabbb");
}

/// Sleeps end in deadline order, and they overlap: every sleep began before any ended.
#[test]
fn sleeps_overlap_and_end_in_deadline_order() {
    let (order, spans) = run(|| {
        let done = Rc::new(RefCell::new(Vec::new()));
        let handles: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|ms| {
                let done = Rc::clone(&done);
                spawn(move || {
                    let began = Instant::now();
                    sleep(Duration::from_millis(ms));
                    done.borrow_mut().push(ms);
                    (began, Instant::now())
                })
            })
            .collect();
        let spans: Vec<_> = join_all(handles).into_iter().map(|r| r.unwrap()).collect();
        (Rc::try_unwrap(done).unwrap().into_inner(), spans)
    });
    assert_eq!(order, vec![10, 20, 30]);
    let last_began = spans.iter().map(|s| s.0).max().unwrap();
    let first_ended = spans.iter().map(|s| s.1).min().unwrap();
    assert!(last_began < first_ended, "the sleeps ran one after another");
}

/// A panic ends its green thread only: `join` returns it as an error, the others go on.
#[test]
fn a_panic_ends_only_its_green_thread() {
    let (panicked, other) = run(|| {
        let bad = spawn(|| -> u32 { panic!("this green thread fails on purpose") });
        let good = spawn(|| {
            sleep(Duration::from_millis(5));
            7
        });
        (bad.join(), good.join())
    });
    let payload = panicked.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"this green thread fails on purpose")
    );
    assert_eq!(other.unwrap(), 7);
}

/// A panic in `run`'s own closure comes out of `run`.
#[test]
#[should_panic(expected = "main fails")]
fn a_panic_in_main_comes_out_of_run() {
    run(|| panic!("main fails"));
}

/// Waiting for something nothing can cause is detected, not a hang.
#[test]
#[should_panic(expected = "gevent's LoopExit")]
fn a_deadlock_is_reported() {
    run(|| Event::new().wait());
}

/// An event wakes every waiter; `wait_timeout` says whether it was set in time.
#[test]
fn an_event_wakes_every_waiter() {
    let (woken, early, late) = run(|| {
        let event = Event::new();
        let woken = Rc::new(Cell::new(0));
        let waiters: Vec<_> = (0..5)
            .map(|_| {
                let (event, woken) = (event.clone(), Rc::clone(&woken));
                spawn(move || {
                    event.wait();
                    woken.set(woken.get() + 1);
                })
            })
            .collect();
        let early = event.wait_timeout(Duration::from_millis(5));
        let setter = event.clone();
        spawn(move || {
            sleep(Duration::from_millis(5));
            setter.set();
        });
        let late = event.wait_timeout(Duration::from_secs(10));
        join_all(waiters);
        (woken.get(), early, late)
    });
    assert_eq!((woken, early, late), (5, false, true));
}

/// A pool of 3 never runs more than 3, `spawn` blocks while it is full, and `join` waits for
/// all.
#[test]
fn a_pool_runs_at_most_its_size() {
    let (most, finished) = run(|| {
        let pool = Pool::new(3);
        let (running, most, finished) = (
            Rc::new(Cell::new(0)),
            Rc::new(Cell::new(0)),
            Rc::new(Cell::new(0)),
        );
        for _ in 0..10 {
            let (running, most, finished) =
                (Rc::clone(&running), Rc::clone(&most), Rc::clone(&finished));
            pool.spawn(move || {
                running.set(running.get() + 1);
                most.set(most.get().max(running.get()));
                sleep(Duration::from_millis(2));
                running.set(running.get() - 1);
                finished.set(finished.get() + 1);
            });
        }
        pool.join();
        assert_eq!(pool.free_count(), 3);
        (most.get(), finished.get())
    });
    assert_eq!((most, finished), (3, 10));
}

/// A spawner woken for nothing while queued, that finds a free place and takes it, leaves no
/// copy of its waker in the pool's queue: the next freed place goes to the green thread still
/// waiting behind it. (Before the fix, B's stale waker took that wake, A waited forever, and
/// the hub gave up with its LoopExit panic.)
#[test]
fn a_pool_hands_a_freed_place_to_a_green_thread_still_waiting() {
    let (a, b) = run(|| {
        let pool = Pool::new(1);
        let stash: Rc<RefCell<Option<std::task::Waker>>> = Rc::default();
        // The place's holder: just before it ends, a spurious wake for B (any stray copy of a
        // waker can cause one: wakes may always be spurious).
        let stray = Rc::clone(&stash);
        pool.spawn(move || {
            sleep(Duration::from_millis(30));
            if let Some(waker) = stray.borrow_mut().take() {
                waker.wake();
            }
        });
        // A queues first.
        let for_a = pool.clone();
        let a = spawn(move || {
            for_a.spawn(|| ()).join().unwrap();
            "A done"
        });
        // B keeps a copy of its own waker, then queues behind A.
        let for_b = pool.clone();
        let b = spawn(move || {
            let own = hub::park_until(|cx| std::task::Poll::Ready(cx.waker().clone())).unwrap();
            *stash.borrow_mut() = Some(own);
            for_b
                .spawn(|| sleep(Duration::from_millis(10)))
                .join()
                .unwrap();
            "B done"
        });
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!((a, b), ("A done", "B done"));
}

/// A green thread can wait for a future: one of step 5's (its timer is the hub's reactor's),
/// and one completed by another OS thread (which the hub must not take for a deadlock).
#[test]
fn a_green_thread_can_wait_for_futures() {
    let value = run(|| {
        wait_future(step05_futures::time::sleep(Duration::from_millis(5))).unwrap();
        let (sender, receiver) = futures::channel::oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            let _ = sender.send(42);
        });
        wait_future(receiver).unwrap()
    });
    assert_eq!(value, Ok(42));
}

/// A waker handed to another OS thread from a hand-written poll: waited for with
/// `wait_future` (here on `poll_fn`), the hub counts the wait and sleeps until the wake comes,
/// instead of taking it for a deadlock.
#[test]
fn a_wake_from_another_os_thread_is_waited_for_with_wait_future() {
    let got = run(|| {
        let slot = std::sync::Arc::new(std::sync::Mutex::new(None::<u32>));
        let mut sent = false;
        wait_future(std::future::poll_fn(|cx| {
            if let Some(value) = *slot.lock().unwrap() {
                return std::task::Poll::Ready(value);
            }
            if !sent {
                sent = true;
                let (waker, slot) = (cx.waker().clone(), std::sync::Arc::clone(&slot));
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    *slot.lock().unwrap() = Some(7);
                    waker.wake();
                });
            }
            std::task::Poll::Pending
        }))
    });
    assert_eq!(got, Ok(7));
}

/// The same wait written with `park_until` is invisible to the deadlock check, which takes
/// `park_until`'s wakers to stay on the hub's thread: the LoopExit panic then says what to use
/// instead. (Before the fix, the rule was nowhere: `park_until` was documented as the way to
/// wait for anything, and the panic named no way out.)
#[test]
fn the_loop_exit_panic_names_the_way_to_wait_for_other_threads() {
    let outcome = std::panic::catch_unwind(|| {
        run(|| {
            let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
            let helper = std::thread::spawn(move || {
                if let Ok(waker) = rx.recv() {
                    std::thread::sleep(Duration::from_millis(20));
                    waker.wake();
                }
            });
            let mut woken = false;
            let _ = hub::park_until(|cx| {
                if woken {
                    return std::task::Poll::Ready(());
                }
                woken = true;
                let _ = tx.send(cx.waker().clone());
                std::task::Poll::Pending
            });
            drop(helper);
        })
    });
    let panic = outcome.expect_err("the hub takes the wait for a deadlock");
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(message.contains("LoopExit"), "{message}");
    assert!(message.contains("wait_future"), "{message}");
}

/// A read that waits longer than its timeout fails with `TimedOut`, and a zero timeout is
/// refused, as std refuses it.
#[test]
fn socket_timeouts_behave_like_std() {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (kind, zero) = run(move || {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
        let zero = stream.set_read_timeout(Some(Duration::ZERO)).unwrap_err();
        stream
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let mut buf = [0u8; 16];
        (stream.read(&mut buf).unwrap_err().kind(), zero.kind())
    });
    drop(listener);
    assert_eq!((kind, zero), (ErrorKind::TimedOut, ErrorKind::InvalidInput));
}

/// Outside `run`, a green socket is an error that says where it works, not a hang.
#[test]
fn a_green_socket_outside_run_is_an_error() {
    let error = TcpStream::connect("127.0.0.1:9").err().expect("an error");
    assert!(
        error
            .to_string()
            .contains("inside step07_green_threads::run"),
        "{error}"
    );
}

/// Green threads still alive when `run` returns are unwound: their destructors run, their
/// stacks are freed, and their sockets and timers leave the reactor.
#[test]
fn green_threads_left_behind_are_unwound() {
    struct SetOnDrop(Rc<Cell<bool>>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let dropped = Rc::new(Cell::new(false));
    let flag = Rc::clone(&dropped);
    let live = run(move || {
        spawn(move || {
            let _guard = SetOnDrop(flag);
            sleep(Duration::from_secs(3600));
        });
        yield_now(); // let it start and park
        live_green_threads()
    });
    assert_eq!(live, 2, "main and the sleeper");
    assert!(dropped.get(), "the sleeper's stack was unwound");
}

/// A socket call in a destructor that runs while `run` unwinds the green threads left behind
/// cannot park (none of them will run again): it fails with an error instead of panicking,
/// which, during an unwind, would abort the whole process.
#[test]
fn a_socket_call_while_run_unwinds_is_an_error() {
    struct ReadOnDrop(TcpStream, Rc<RefCell<Option<std::io::Error>>>);
    impl Drop for ReadOnDrop {
        fn drop(&mut self) {
            let mut buf = [0u8; 1];
            *self.1.borrow_mut() = self.0.read(&mut buf).err();
        }
    }
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let error = Rc::new(RefCell::new(None));
    let seen = Rc::clone(&error);
    run(move || {
        let connected = Event::new();
        let connected_too = connected.clone();
        spawn(move || {
            let _reads_on_drop = ReadOnDrop(TcpStream::connect(addr).unwrap(), seen);
            connected_too.set();
            sleep(Duration::from_secs(3600));
        });
        connected.wait(); // then return, leaving it parked in its sleep
    });
    drop(listener);
    let error = error
        .borrow_mut()
        .take()
        .expect("the read in the destructor failed");
    let inner = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<hub::CannotPark>());
    assert_eq!(inner, Some(&hub::CannotPark::Finishing), "{error}");
}

/// The reactor keeps one waker per direction of a socket, so a second green thread that would
/// wait on the same direction is refused (gevent refuses it too), and the first is not
/// disturbed: it still gets its bytes.
#[test]
fn a_second_reader_of_one_socket_is_refused() {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (first, second) = run(move || {
        let stream = Rc::new(TcpStream::connect(addr).unwrap());
        let (mut peer, _) = listener.accept().unwrap();
        let reader = Rc::clone(&stream);
        let first = spawn(move || {
            let mut buf = [0u8; 5];
            (&*reader).read_exact(&mut buf).map(|()| buf)
        });
        yield_now(); // the first reader parks
        let mut buf = [0u8; 5];
        let second = (&*stream).read(&mut buf).unwrap_err().kind();
        std::io::Write::write_all(&mut peer, b"hello").unwrap();
        (first.join().unwrap().unwrap(), second)
    });
    assert_eq!((&first, second), (b"hello", ErrorKind::ResourceBusy));
}

/// An event's `wait_timeout` that times out takes its waker back.
#[test]
fn a_timed_out_wait_leaves_no_waker_behind() {
    let (set, waiting) = run(|| {
        let event = Event::new();
        let set = event.wait_timeout(Duration::from_millis(1));
        (set, event.waiting())
    });
    assert_eq!((set, waiting), (false, 0));
}

/// `run` inside `run` is refused.
#[test]
#[should_panic(expected = "run inside run")]
fn run_does_not_nest() {
    run(|| run(|| ()));
}

/// 10,000 green threads alive at once, each parked in a sleep, all finish.
#[test]
fn ten_thousand_green_threads() {
    let finished = run(|| {
        let handles: Vec<_> = (0..10_000)
            .map(|i| {
                hub::spawn(move || {
                    sleep(Duration::from_millis(10));
                    i
                })
            })
            .collect();
        assert_eq!(live_green_threads(), 10_001);
        join_all(handles).into_iter().filter(|r| r.is_ok()).count()
    });
    assert_eq!(finished, 10_000);
}
