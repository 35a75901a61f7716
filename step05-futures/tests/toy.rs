//! The three toy pieces of chapter 5 do what the chapter says: `block_on` polls a `Delay`
//! twice (the first poll and the wake) and returns after the delay; the executor polls each
//! task once per wake and no more; the reactor reads three responses on one thread.

use std::cell::RefCell;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use mio::Token;
use step05_futures::toy::{Delay, Executor, Reactor, ReadToEnd, block_on};
use testbed::server::delay_response;
use testbed::{ServerConfig, ServerHandle, Target};

/// Counts the polls of the future inside.
struct Counted<F> {
    inner: F,
    polls: Rc<RefCell<usize>>,
}

impl<F: Future + Unpin> Future for Counted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        *self.polls.borrow_mut() += 1;
        Pin::new(&mut self.inner).poll(cx)
    }
}

#[test]
fn block_on_parks_until_the_delay_wakes_it() {
    let polls = Rc::default();
    let began = Instant::now();
    block_on(Counted {
        inner: Delay::new(Duration::from_millis(30)),
        polls: Rc::clone(&polls),
    });
    assert!(began.elapsed() >= Duration::from_millis(30));
    assert_eq!(
        *polls.borrow(),
        2,
        "the first poll, then one after the wake"
    );
}

#[test]
fn the_executor_polls_a_task_once_per_wake() {
    let mut executor = Executor::new();
    for ms in [30, 10, 20] {
        executor.spawn(async move { Delay::new(Duration::from_millis(ms)).await });
    }
    let polls = executor.run(std::thread::park);
    assert_eq!(
        polls, 6,
        "each task: its first poll, and one after its wake"
    );
}

#[test]
fn the_reactor_reads_three_responses_on_one_thread() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let target = Target::new(server.addr(), "/delay/20");
    let reactor = Rc::new(RefCell::new(Reactor::new().unwrap()));
    let lengths = Rc::new(RefCell::new(Vec::new()));
    let mut executor = Executor::new();
    for id in 0..3 {
        let mut socket = std::net::TcpStream::connect(target.addr).unwrap();
        socket.write_all(&target.request()).unwrap();
        let read = ReadToEnd::new(socket, Token(id), &reactor).unwrap();
        let lengths = Rc::clone(&lengths);
        executor.spawn(async move {
            let length = read.await.unwrap().len();
            lengths.borrow_mut().push(length);
        });
    }
    let turns = RefCell::new(0);
    executor.run(|| {
        reactor.borrow_mut().turn().unwrap();
        *turns.borrow_mut() += 1;
    });
    let expected = delay_response(Duration::from_millis(20)).len();
    assert_eq!(*lengths.borrow(), [expected; 3]);
    assert!(*turns.borrow() >= 1, "the tasks waited in the reactor");
}
