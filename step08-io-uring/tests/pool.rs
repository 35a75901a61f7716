//! The ring's pool of receive buffers: many connections share a few buffers and every response
//! still arrives whole; a receive that finds the pool empty waits and tries again; and a
//! receive dropped after the kernel gave it a buffer gives that buffer back, so a pool of one
//! buffer keeps working after it.

use std::cell::RefCell;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use futures::future::join_all;
use futures::poll;
use step05_futures::spawn;
use step08_io_uring::uring::net::TcpStream;
use step08_io_uring::uring::pool::BUFFER_SIZE;
use step08_io_uring::uring::ring::{Counts, Ring};
use step08_io_uring::uring::time::{sleep, timeout};
use step08_io_uring::{block_on_ring, io_uring_here};
use testbed::{ServerConfig, ServerHandle, Workload};

/// A ring with a pool of `buffers` buffers.
fn ring_with_pool(buffers: u16) -> Rc<RefCell<Ring>> {
    let mut ring = Ring::new(64).expect("make a ring");
    ring.provide_buffers(buffers, BUFFER_SIZE)
        .expect("give the kernel the pool");
    Rc::new(RefCell::new(ring))
}

/// A connection that has sent its request and waited until the (20 ms late) answer is surely
/// in its socket.
async fn answered(target: &testbed::Target) -> TcpStream {
    let stream = TcpStream::connect(target.addr).await.expect("connect");
    let (sent, _) = stream.write_all(target.request()).await;
    sent.expect("send the request");
    sleep(Duration::from_millis(200)).await;
    stream
}

/// A hundred connections read their responses through a pool of four buffers: every response
/// arrives whole, and the pool ran dry on the way (so the wait-and-retry path ran). To make it
/// run dry every time, each task starts reading only once its answer is surely there, so that
/// the hundred receives go to the kernel together, each with data waiting, and four buffers
/// are all there is.
#[test]
fn a_hundred_connections_share_four_buffers() {
    if !io_uring_here("a_hundred_connections_share_four_buffers") {
        return;
    }
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let workload = Workload::delayed(server.addr(), 100, 20);
    let ring = ring_with_pool(4);
    let responses = block_on_ring(&ring, async {
        let tasks: Vec<_> = workload
            .targets
            .iter()
            .map(|target| {
                let target = target.clone();
                spawn(async move {
                    let stream = answered(&target).await;
                    let mut response = Vec::new();
                    loop {
                        let received = stream.read_from_pool().await?;
                        if received.is_empty() {
                            return std::io::Result::Ok(response);
                        }
                        response.extend_from_slice(&received);
                    }
                })
            })
            .collect();
        // Bounded: a receive waiting for a buffer nobody gives back would wait forever.
        timeout(Duration::from_secs(10), join_all(tasks)).await
    });
    let responses = responses.expect("every receive got a buffer in the end");
    for response in responses {
        let response = response.expect("the connection succeeds");
        let mut check = workload.response_check();
        check.feed(&response).expect("a good response");
        check.finish().expect("a whole response");
    }
    let counts = ring.borrow().counts();
    assert!(
        counts.ran_dry > 0,
        "with 4 buffers for 100 answers waiting at once, some receives waited for a buffer: \
         {counts:?}"
    );
}

/// A pool of one buffer, held by one task for 100 ms while a second task's answer is waiting:
/// the second receive finds the pool empty, waits, and is woken when the first task drops its
/// buffer (the buffer goes back, and the waiting receive starts again and gets it).
#[test]
fn a_receive_waits_for_a_buffer_held_by_another_task() {
    if !io_uring_here("a_receive_waits_for_a_buffer_held_by_another_task") {
        return;
    }
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let workload = Workload::delayed(server.addr(), 2, 20);
    let ring = ring_with_pool(1);
    let second = block_on_ring(&ring, async {
        let (first, second) = (
            answered(&workload.targets[0]).await,
            answered(&workload.targets[1]).await,
        );
        let holder = spawn(async move {
            let held = first.read_from_pool().await.expect("the first receive");
            assert!(!held.is_empty(), "the first answer");
            sleep(Duration::from_millis(100)).await;
            drop(held);
        });
        // Let the holder take the buffer first.
        sleep(Duration::from_millis(20)).await;
        let received = timeout(Duration::from_secs(2), second.read_from_pool()).await;
        // The length only: a buffer held while awaiting a task that needs one could deadlock.
        let received = received.map(|received| received.map(|buf| buf.len()));
        holder.await;
        received
    });
    let n = second
        .expect("the waiting receive was woken when the buffer came back")
        .expect("the second receive succeeded");
    assert!(n > 0, "it received the second answer");
    let counts = ring.borrow().counts();
    assert!(
        counts.ran_dry >= 1,
        "the second receive found the pool empty: {counts:?}"
    );
}

/// When the first receive of a pool of one buffer is dropped: after the ring has reaped its
/// completion, or at once (orphaned, its entry and its cancel still queued).
#[derive(Clone, Copy, PartialEq)]
enum DroppedWhen {
    Completed,
    InFlight,
}

/// Two connections whose answers are waiting, and a pool of one buffer. A receive is started on
/// the first and dropped (`when`); then a receive on the second must get the buffer back
/// (without the give-back, it would find the pool empty forever and time out). Returns the
/// ring's counts.
fn one_buffer_after_a_dropped_receive(when: DroppedWhen) -> Counts {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let workload = Workload::delayed(server.addr(), 2, 20);
    let ring = ring_with_pool(1);
    let second = block_on_ring(&ring, async {
        let (first, second) = (
            answered(&workload.targets[0]).await,
            answered(&workload.targets[1]).await,
        );
        {
            let mut receive = pin!(first.read_from_pool());
            assert!(poll!(receive.as_mut()).is_pending(), "the entry is queued");
            if when == DroppedWhen::Completed {
                // The entry goes to the kernel, which fills the one buffer; the ring reaps it.
                sleep(Duration::from_millis(50)).await;
            }
        } // dropped with its result (and buffer) unread
        timeout(Duration::from_secs(2), second.read_from_pool())
            .await
            .map(|received| received.map(|buf| buf.len()))
    });
    let n = second
        .expect("the second receive got the buffer back (it did not wait forever)")
        .expect("the second receive succeeded");
    assert!(n > 0, "it received the second answer");
    ring.borrow().counts()
}

/// The first receive is dropped after its completion was reaped, unread: `orphan` gives its
/// buffer back.
#[test]
fn a_receive_dropped_after_its_buffer_was_filled_gives_it_back() {
    if !io_uring_here("a_receive_dropped_after_its_buffer_was_filled_gives_it_back") {
        return;
    }
    let counts = one_buffer_after_a_dropped_receive(DroppedWhen::Completed);
    assert_eq!(
        counts.orphaned, 0,
        "the first receive had completed: {counts:?}"
    );
}

/// The first receive is dropped before its entry even reaches the kernel: the receive and its
/// cancel go together, the receive completes first (its data is waiting) into the one buffer,
/// and `reap`, freeing the orphan's slot, gives the buffer back.
#[test]
fn a_receive_cancelled_in_flight_gives_its_buffer_back() {
    if !io_uring_here("a_receive_cancelled_in_flight_gives_its_buffer_back") {
        return;
    }
    let counts = one_buffer_after_a_dropped_receive(DroppedWhen::InFlight);
    assert_eq!(
        counts.orphaned, 1,
        "the first receive was orphaned: {counts:?}"
    );
}

/// A receive into the pool on a ring that has none says so, rather than waiting forever.
#[test]
fn a_receive_into_a_ring_without_a_pool_is_an_error() {
    if !io_uring_here("a_receive_into_a_ring_without_a_pool_is_an_error") {
        return;
    }
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let workload = Workload::delayed(server.addr(), 1, 0);
    let ring = Rc::new(RefCell::new(Ring::new(8).unwrap()));
    let error = block_on_ring(&ring, async {
        let stream = answered(&workload.targets[0]).await;
        stream.read_from_pool().await.map(drop).unwrap_err()
    });
    assert!(error.to_string().contains("no buffer pool"), "{error}");
}
