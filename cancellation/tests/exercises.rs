//! The cancellation chapter's exercise 1, solved and checked: a steady tick whose `tick` is
//! cancel safe, raced against a line reader. The loop in `lines.rs` makes a new `sleep` on
//! every turn, so each line restarts its 10 ms; an `Interval` keeps its next deadline in
//! itself, so a `tick` dropped when a line wins loses nothing, and the ticks stay 10 ms apart.

use std::io;
use std::pin::pin;
use std::time::{Duration, Instant};

use cancellation::lines::{LineReader, TICK};
use cancellation::peer::{self, LINES};
use futures::future::{Either, select};
use step05_futures::net::TcpStream;
use step05_futures::time::{Sleep, sleep};

// ANCHOR: interval
/// Ticks every `period`, on a schedule fixed when it is made.
struct Interval {
    /// The deadline of the next tick.
    next: Instant,
    period: Duration,
}

impl Interval {
    fn new(period: Duration) -> Interval {
        assert!(period > Duration::ZERO, "an interval needs a period");
        Interval {
            next: Instant::now() + period,
            period,
        }
    }

    /// Waits for the next tick and returns its deadline. Cancel safe: the deadline lives in
    /// `self`, and moves on only in the poll that returns it; a `tick` dropped while it waits
    /// leaves it where it was, for the next call.
    async fn tick(&mut self) -> Instant {
        Sleep::until(self.next).await;
        let tick = self.next;
        self.next += self.period;
        tick
    }
}
// ANCHOR_END: interval

/// Reads the peer's lines while ticking, and returns the lines and each tick's deadline.
/// `steady`: with an `Interval`; otherwise with a new `sleep(TICK)` every turn, as `lines.rs`.
fn ticking(steady: bool) -> (Vec<String>, Vec<Instant>) {
    let (addr, server) = peer::lines_in_halves().expect("start the peer");
    let got = step05_futures::block_on(async move {
        let mut reader = LineReader::new(TcpStream::connect(addr).await?);
        let mut interval = Interval::new(TICK);
        let (mut lines, mut ticks) = (Vec::new(), Vec::new());
        loop {
            let line = pin!(reader.next_line());
            let tick = pin!(async {
                if steady {
                    interval.tick().await
                } else {
                    let deadline = Instant::now() + TICK;
                    sleep(TICK).await;
                    deadline
                }
            });
            match select(line, tick).await {
                Either::Left((line, _)) => match line? {
                    Some(line) => lines.push(line),
                    None => return io::Result::Ok((lines, ticks)),
                },
                Either::Right((deadline, _)) => ticks.push(deadline),
            }
        }
    })
    .expect("read to the end");
    server
        .join()
        .expect("no panic")
        .expect("the peer sends everything");
    got
}

/// The gaps between consecutive ticks.
fn gaps(ticks: &[Instant]) -> Vec<Duration> {
    ticks.windows(2).map(|w| w[1] - w[0]).collect()
}

/// With the `Interval`, every tick is exactly one period after the one before, though lines
/// won many races (and dropped many `tick` futures); the lines are whole.
#[test]
fn an_interval_keeps_its_beat_through_cancelled_ticks() {
    let (lines, ticks) = ticking(true);
    assert_eq!(lines, LINES);
    assert!(ticks.len() > 10, "many ticks: {}", ticks.len());
    assert!(
        gaps(&ticks).iter().all(|gap| *gap == TICK),
        "{:?}",
        gaps(&ticks)
    );
}

/// With a new `sleep` each turn, a line restarts the wait: some gaps are longer than a period.
#[test]
fn a_new_sleep_each_turn_loses_the_beat() {
    let (lines, ticks) = ticking(false);
    assert_eq!(lines, LINES);
    assert!(
        gaps(&ticks).iter().any(|gap| *gap > TICK),
        "{:?}",
        gaps(&ticks)
    );
}
