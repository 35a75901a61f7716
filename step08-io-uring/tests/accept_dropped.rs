//! An accept whose future is dropped after the kernel accepted a connection leaves that
//! connection to nobody: the ring closes it, whether the completion came before the drop or
//! after. (One test per file where descriptors are counted: tests of one file run in parallel
//! threads of one process.)

use std::cell::RefCell;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use step08_io_uring::uring::net::TcpListener;
use step08_io_uring::uring::ring::Ring;
use step08_io_uring::uring::time::sleep;
use step08_io_uring::{block_on_ring, io_uring_here};

/// How many descriptors this process has open.
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// A client of `addr`, connected at once (the kernel completes the handshake for the
/// listener's queue), that gives up reading after five seconds instead of hanging.
fn client(addr: SocketAddr) -> std::net::TcpStream {
    let client = std::net::TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client
}

/// What the client reads: end-of-file once the server's side of its connection is closed
/// (a leaked accepted connection would leave it waiting until its read timeout).
fn reads_end_of_file(mut client: std::net::TcpStream) -> bool {
    matches!(client.read(&mut [0u8; 16]), Ok(0))
}

/// Two accepts dropped with a connection the kernel accepted for them: one whose completion was
/// reaped before the drop, one whose completion arrived after it (its cancel came too late).
/// Each client sees end-of-file, and no descriptor is left open once the ring is gone.
#[test]
fn a_connection_accepted_for_a_dropped_accept_is_closed() {
    if !io_uring_here("a_connection_accepted_for_a_dropped_accept_is_closed") {
        return;
    }
    let before = open_descriptors();
    let ring = Rc::new(RefCell::new(Ring::new(8).unwrap()));
    let ring_inside = Rc::clone(&ring);
    let clients = block_on_ring(&ring, async move {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        let addr = listener.local_addr();

        // Completed, then dropped: polled once (queued), the client connects, the ring turns
        // (a timer) and reaps the accept's completion, then the future goes.
        let mut accept = Box::pin(listener.accept());
        assert!(futures::poll!(accept.as_mut()).is_pending());
        let first = client(addr);
        sleep(Duration::from_millis(20)).await;
        drop(accept);

        // Dropped, then completed: polled once (queued, not yet submitted), the client
        // connects, the future goes. The next turn submits the accept, which takes the waiting
        // connection at once, and then the cancel, which finds nothing left to cancel.
        let mut accept = Box::pin(listener.accept());
        assert!(futures::poll!(accept.as_mut()).is_pending());
        let second = client(addr);
        drop(accept);
        sleep(Duration::from_millis(20)).await;

        assert_eq!(ring_inside.borrow().live_operations(), 0);
        drop(listener);
        sleep(Duration::from_millis(1)).await; // the listener's close goes with a batch
        (first, second)
    });
    let (first, second) = clients;
    assert!(
        reads_end_of_file(first),
        "the connection accepted before the drop was closed"
    );
    assert!(
        reads_end_of_file(second),
        "the connection accepted after the drop was closed"
    );
    drop(ring);
    assert_eq!(
        open_descriptors(),
        before,
        "every descriptor the test opened is closed"
    );
}
