//! Nothing left behind: a read future dropped while pending leaves no waker at the reactor, a
//! stream dropped leaves no registration, a sleep dropped leaves no timer; and runs, good or
//! failing, close every descriptor they open. (One file, so no other test opens descriptors
//! meanwhile; the delay server runs in a child process for the same reason.)

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use step05_futures::net::TcpStream;
use step05_futures::reactor::Reactor;
use step05_futures::time::sleep;
use step05_futures::{block_on, fan_out};
use testbed::{ChildServer, ServeArgs, Target, Workload};

/// Counts this process's open descriptors.
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// Polls `future` once: Some(output) if ready.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Option<F::Output> {
    let mut cx = Context::from_waker(std::task::Waker::noop());
    match Pin::new(future).poll(&mut cx) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// Registrations and timers come back to zero once the futures holding them are dropped.
#[test]
fn dropped_futures_leave_nothing_behind() {
    let args = ServeArgs {
        addr: ([127, 0, 0, 1], 0).into(),
        delay_ms: 0,
    };
    let server =
        ChildServer::spawn(Path::new(env!("CARGO_BIN_EXE_step05-futures")), &args).unwrap();
    let addr = server.addr();
    let before = open_descriptors();
    block_on(futures::future::lazy(move |_| {
        let reactor = Reactor::current();
        let mut connect = TcpStream::connect(addr);
        assert!(
            poll_once(&mut connect).is_none(),
            "a connect is never done at once"
        );
        assert_eq!(reactor.borrow().live_registrations(), 1);
        drop(connect);
        assert_eq!(
            reactor.borrow().live_registrations(),
            0,
            "a dropped connect deregisters"
        );

        let mut pause = sleep(Duration::from_secs(60));
        assert!(poll_once(&mut pause).is_none());
        assert_eq!(reactor.borrow().live_timers(), 1);
        drop(pause);
        assert_eq!(
            reactor.borrow().live_timers(),
            0,
            "a dropped sleep leaves no timer"
        );
    }));
    // A pending read on a live stream, dropped: the stream stays, the read leaves no waker.
    block_on(TcpStream::connect(addr).then(|stream| {
        let mut stream = stream.expect("connect");
        futures::future::poll_fn(move |cx| {
            let reactor = Reactor::current();
            let mut buf = [0u8; 16];
            let mut read = stream.read(&mut buf);
            assert!(
                Pin::new(&mut read).poll(cx).is_pending(),
                "nothing to read yet"
            );
            assert_eq!(
                reactor.borrow().waiting_wakers(),
                1,
                "the read left its waker"
            );
            drop(read);
            assert_eq!(
                reactor.borrow().waiting_wakers(),
                0,
                "a dropped read takes its waker back"
            );
            assert_eq!(
                reactor.borrow().live_registrations(),
                1,
                "the stream is still registered"
            );
            Poll::Ready(())
        })
    }));
    assert_eq!(open_descriptors(), before, "no descriptor leaked");

    // Whole runs, good and failing, each variant: the same number of descriptors after.
    let refused = testbed::faults::refused_addr();
    for target in [
        Target::new(addr, "/delay/5"),
        Target::new(refused, "/"),
        Target::new(addr, "/chaos/hang"),
    ] {
        let workload = Workload::uniform(target, 20, Duration::from_millis(300));
        for results in [
            fan_out::state_machine(&workload),
            fan_out::join_all(&workload),
            fan_out::unordered(&workload, None),
        ] {
            assert_eq!(results.len(), 20);
        }
        assert_eq!(open_descriptors(), before, "descriptors leaked by a run");
    }
}
