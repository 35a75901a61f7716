//! The executor of `toy_executor`, with a reactor instead of a thread per wait: three requests
//! to a local server that answers after 50 ms, their responses read by tasks that wait in one
//! `epoll_wait`. The program prints each poll, and each return from the kernel.
//!
//! ```text
//! cargo run --release -p step05-futures --bin toy_reactor
//! ```
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use mio::Token;
use step05_futures::toy::{Executor, Reactor, ReadToEnd};
use testbed::{RunClock, ServerConfig, ServerHandle, Target};

/// A task of this program: reading one response, and a line printed at each poll.
struct Task {
    id: usize,
    read: ReadToEnd,
    clock: RunClock,
}

impl Future for Task {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let answer = Pin::new(&mut self.read).poll(cx);
        let said = match &answer {
            Poll::Pending => format!("Pending ({} bytes so far)", self.read.bytes_so_far()),
            Poll::Ready(Ok(bytes)) => format!("Ready: {} bytes, then end-of-file", bytes.len()),
            Poll::Ready(Err(e)) => format!("Ready: {e}"),
        };
        println!(
            "{:6.1} ms  poll task {}: {said}",
            self.clock.elapsed_ms(),
            self.id
        );
        answer.map(drop)
    }
}

fn main() -> io::Result<()> {
    let server = ServerHandle::start(ServerConfig::default())?;
    let target = Target::new(server.addr(), "/delay/50");
    let reactor = Rc::new(RefCell::new(Reactor::new()?));
    let mut executor = Executor::new();
    let clock = RunClock::start();
    for id in 0..3 {
        // Connecting and sending are quick on loopback: done here, blocking, to keep the toy
        // small. The wait is for the answer.
        let mut socket = std::net::TcpStream::connect(target.addr)?;
        socket.write_all(&target.request())?;
        let read = ReadToEnd::new(socket, Token(id), &reactor)?;
        executor.spawn(Task { id, read, clock });
    }
    // ANCHOR: run
    // Nothing queued: sleep in the kernel until a socket is ready, and wake its task.
    let polls = executor.run(|| {
        let woken = reactor.borrow_mut().turn().expect("epoll_wait failed");
        println!(
            "{:6.1} ms  epoll_wait returned: {woken} task(s) woken",
            clock.elapsed_ms()
        );
    });
    // ANCHOR_END: run
    println!(
        "{:6.1} ms  all three done, in {polls} polls, on one thread",
        clock.elapsed_ms()
    );
    Ok(())
}
