//! `write_all` of 32 MiB to a peer that reads nothing for 300 ms, cut by a 100 ms deadline:
//! the peer gets part of the message, and the sender does not know how much. Counted writes,
//! cut the same way, know exactly what the peer will get. On our runtime and on tokio.

use std::time::Duration;

use cancellation::peer;
use cancellation::write::{self, Sent};

const MESSAGE: usize = 32 << 20;
const LIMIT: Duration = Duration::from_millis(100);
const PEER_WAITS: Duration = Duration::from_millis(300);

/// Runs `sender` against a fresh late reader: what the sender knows, and what the peer got.
fn against_a_late_reader(
    sender: impl FnOnce(std::net::SocketAddr, &[u8]) -> std::io::Result<Sent>,
) -> (Sent, u64) {
    let (addr, server) = peer::late_reader(PEER_WAITS).expect("start the peer");
    let data = vec![b'x'; MESSAGE];
    let sent = sender(addr, &data).expect("connect and send");
    let received = server
        .join()
        .expect("no panic")
        .expect("the peer reads to the end");
    (sent, received)
}

/// Cut, and the peer has part of the message; the sender knows nothing of it.
fn assert_cut_unknown((sent, received): (Sent, u64)) {
    assert!(
        sent.cut,
        "the deadline came first: the peer was not reading"
    );
    assert_eq!(sent.known, None);
    assert!(received > 0, "some of the message went out");
    assert!(
        received < MESSAGE as u64,
        "but not all of it: {received} bytes"
    );
}

/// Cut, and the sender knows exactly what the peer got.
fn assert_cut_known((sent, received): (Sent, u64)) {
    assert!(
        sent.cut,
        "the deadline came first: the peer was not reading"
    );
    assert_eq!(
        sent.known,
        Some(received),
        "the sender's count is the peer's"
    );
    assert!(received < MESSAGE as u64);
}

#[test]
fn ours_write_all_cut_leaves_an_unknown_part() {
    assert_cut_unknown(against_a_late_reader(|addr, data| {
        step05_futures::block_on(write::write_all_cut(addr, data, LIMIT))
    }));
}

#[test]
fn ours_counted_writes_know_what_went() {
    assert_cut_known(against_a_late_reader(|addr, data| {
        step05_futures::block_on(write::write_counted(addr, data, LIMIT))
    }));
}

#[test]
fn tokio_write_all_cut_leaves_an_unknown_part() {
    assert_cut_unknown(against_a_late_reader(|addr, data| {
        cancellation::tokio_runtime().block_on(write::on_tokio(addr, data, LIMIT, false))
    }));
}

#[test]
fn tokio_counted_writes_know_what_went() {
    assert_cut_known(against_a_late_reader(|addr, data| {
        cancellation::tokio_runtime().block_on(write::on_tokio(addr, data, LIMIT, true))
    }));
}
