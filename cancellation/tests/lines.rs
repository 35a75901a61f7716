//! A `select!` loop that races a line reader against a 10 ms tick, while the peer sends each
//! line in two halves 60 ms apart: the reader that keeps its half line in its future loses it
//! every time the tick wins; the one that keeps it in itself loses nothing. On our runtime and
//! on tokio.

use cancellation::lines::{self, Received};
use cancellation::peer::{self, LINES};

/// Runs `reader` against a fresh peer.
fn against_the_peer(
    reader: impl FnOnce(std::net::SocketAddr) -> std::io::Result<Received>,
) -> Received {
    let (addr, server) = peer::lines_in_halves().expect("start the peer");
    let received = reader(addr).expect("the loop ends at the end of the stream");
    server
        .join()
        .expect("no panic")
        .expect("the peer sends everything");
    received
}

/// The lines lost their beginnings: not what was sent, and each line received is the end of a
/// line sent. (Usually every line is cut at its middle; a machine stalled for longer than the
/// peer's pause may let a line through whole, so the check is that some were cut.)
fn assert_cut(received: &Received) {
    assert_ne!(received.lines, LINES, "the half lines were lost");
    for line in &received.lines {
        assert!(
            LINES.iter().any(|sent| sent.ends_with(line.as_str())),
            "{line:?} is the end of a line sent, its beginning lost"
        );
    }
    assert!(received.ticks > 0, "the tick won races");
}

#[test]
fn ours_read_line_loses_half_lines() {
    let received =
        against_the_peer(|addr| step05_futures::block_on(lines::ticking_read_line(addr)));
    assert_cut(&received);
}

#[test]
fn ours_line_reader_loses_nothing() {
    let received =
        against_the_peer(|addr| step05_futures::block_on(lines::ticking_line_reader(addr)));
    assert_eq!(received.lines, LINES, "every line whole, in order");
    assert!(received.ticks > 0, "though the tick won races");
}

#[test]
fn tokio_read_line_loses_half_lines() {
    let received = against_the_peer(|addr| {
        cancellation::tokio_runtime().block_on(lines::ticking_on_tokio(addr, false))
    });
    assert_cut(&received);
}

#[test]
fn tokio_lines_loses_nothing() {
    let received = against_the_peer(|addr| {
        cancellation::tokio_runtime().block_on(lines::ticking_on_tokio(addr, true))
    });
    assert_eq!(received.lines, LINES, "every line whole, in order");
    assert!(received.ticks > 0, "though the tick won races");
}
