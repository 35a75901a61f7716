//! Cancellation on the ring: a future dropped while its operation is in flight frees nothing
//! the kernel still uses, and leaks nothing once the kernel is done. The ring keeps the
//! operation's buffer and socket (its slot is orphaned), asks the kernel to cancel, and frees
//! them when the cancellation completes. (One test per file where descriptors are counted:
//! tests of one file run in parallel threads of one process.)

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use step08_io_uring::uring::net::TcpStream;
use step08_io_uring::uring::ring::Ring;
use step08_io_uring::uring::time::timeout;
use step08_io_uring::{block_on_ring, io_uring_here};
use testbed::{ServerConfig, ServerHandle};

/// How many descriptors this process has open.
fn open_descriptors() -> Vec<String> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let target = std::fs::read_link(e.path()).unwrap_or_default();
            format!("{:?} -> {}", e.file_name(), target.display())
        })
        .collect()
}

/// Fifty reads, each cut by a 30 ms timeout while the server says nothing: every read is
/// orphaned and cancelled; once the cancellations have completed, no operation is left on the
/// ring (so no buffer is kept), and when the ring is gone, no descriptor is left open.
#[test]
fn reads_dropped_mid_flight_leave_nothing_behind() {
    if !io_uring_here("reads_dropped_mid_flight_leave_nothing_behind") {
        return;
    }
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let addr = server.addr();
    let before = open_descriptors();
    let ring = Rc::new(RefCell::new(Ring::new(16).unwrap()));
    let timed_out = block_on_ring(&ring, async move {
        let mut timed_out = 0;
        for _ in 0..50 {
            let stream = TcpStream::connect(addr).await.unwrap();
            let (sent, _) = stream
                .write_all(b"GET /chaos/hang HTTP/1.0\r\n\r\n".to_vec())
                .await;
            sent.unwrap();
            let read = stream.read(vec![0u8; 64 * 1024]);
            if timeout(Duration::from_millis(30), read).await.is_err() {
                timed_out += 1;
            }
            // `stream` is dropped here too, while its orphaned read may still be in flight.
        }
        timed_out
    });
    assert_eq!(
        timed_out, 50,
        "the server never answers: every read times out"
    );
    let mut ring_now = ring.borrow_mut();
    assert_eq!(
        ring_now.settle(Duration::from_secs(5)),
        0,
        "nothing left on the ring"
    );
    assert!(
        ring_now.counts().orphaned >= 50,
        "each read was orphaned: {:?}",
        ring_now.counts()
    );
    drop(ring_now);
    drop(ring);
    // The embedded server (a thread of this process) closes its end of each connection when it
    // sees ours closed: give it a moment to see the last ones.
    let mut after = open_descriptors();
    for _ in 0..100 {
        if after.len() <= before.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
        after = open_descriptors();
    }
    assert_eq!(
        after.len(),
        before.len(),
        "every socket closed, and the ring's own: before {before:#?}, after {after:#?}"
    );
}
