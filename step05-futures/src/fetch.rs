//! One connection of the fan-out as a future written by hand: an `enum` of states, and a `poll`
//! that moves from one to the next as far as it can, returning `Pending` at the first thing that
//! is not ready. This is the code the compiler writes for us from an `async fn` in step 6.

use std::future::Future;
use std::io::{self, ErrorKind};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use testbed::{
    ConnectionRecord, ConnectionResult, FetchError, ResponseCheck, RunClock, Stage, Workload,
};

use crate::net::{Connect, TcpStream};
use crate::reactor::token_name;
use crate::time::Sleep;
use crate::trace::trace;

// ANCHOR: state
/// Where a connection is.
enum State {
    /// The handshake is in flight.
    Connecting(Connect),
    /// Sending the request; `written` bytes are out.
    Writing {
        /// The connected stream.
        stream: TcpStream,
        /// Bytes of the request sent so far.
        written: usize,
    },
    /// Reading the response to end-of-file.
    Reading {
        /// The connected stream.
        stream: TcpStream,
    },
    /// Finished: polling again is a bug.
    Done,
}

/// One connection of the fan-out, from connect to checked response: a future of its result.
pub struct Fetch {
    /// How far it has got.
    state: State,
    /// The request to send.
    request: Vec<u8>,
    /// The response check.
    check: ResponseCheck,
    /// The connection's number, and what its record needs at the first poll.
    id: usize,
    /// The run's clock.
    clock: RunClock,
    /// The per-connection timeout.
    timeout: Duration,
    /// The connection's times: started at the first poll, taken when it finishes.
    record: Option<ConnectionRecord>,
    /// The deadline, as a timer, from the first poll on.
    deadline: Option<Sleep>,
}
// ANCHOR_END: state

impl Fetch {
    /// Connection `id` of `workload`. Nothing happens until it is polled: its clock starts,
    /// and its deadline is set, at the first poll.
    pub fn new(workload: &Workload, id: usize) -> Fetch {
        let target = &workload.targets[id];
        Fetch {
            state: State::Connecting(TcpStream::connect(target.addr)),
            request: target.request(),
            check: workload.response_check(),
            id,
            clock: workload.clock,
            timeout: workload.timeout,
            record: None,
            deadline: None,
        }
    }

    /// The connection's number.
    fn id(&self) -> usize {
        self.id
    }

    // ANCHOR: deadline
    /// At the first poll: the connection's clock starts, and so does its deadline.
    fn start_at_first_poll(&mut self) {
        if self.record.is_none() {
            let record = ConnectionRecord::start(self.clock, self.id, self.timeout);
            self.deadline = Some(Sleep::until(record.deadline()));
            self.record = Some(record);
        }
    }

    /// Whether the deadline has passed; if not, its timer keeps the waker of `cx`.
    fn deadline_passed(&mut self, cx: &mut Context<'_>) -> bool {
        let deadline = self.deadline.as_mut().expect("set at the first poll");
        Pin::new(deadline).poll(cx).is_ready()
    }
    // ANCHOR_END: deadline

    /// The connection's times (there from the first poll until it finishes).
    fn record(&mut self) -> &mut ConnectionRecord {
        self.record.as_mut().expect("started, and not finished")
    }

    /// Ends the connection with `outcome`.
    fn finish(&mut self, outcome: Result<(), FetchError>) -> Poll<ConnectionResult> {
        trace!(
            "connection {}: done ({})",
            self.id(),
            if outcome.is_ok() { "ok" } else { "failed" }
        );
        self.state = State::Done;
        let record = self.record.take().expect("a connection finishes once");
        Poll::Ready(record.finish(outcome))
    }

    /// Ends the connection with an I/O error at `stage`.
    fn fail(&mut self, stage: Stage, error: io::Error) -> Poll<ConnectionResult> {
        self.finish(Err(FetchError::io(stage, error)))
    }

    /// Ends the connection as timed out, at the stage it had reached.
    fn timed_out(&mut self) -> Poll<ConnectionResult> {
        let stage = self.record().stage_reached();
        let error = self.record().timed_out(stage);
        self.finish(Err(error))
    }

    /// Ends the connection with the verdict of the response check.
    fn checked(&mut self) -> Poll<ConnectionResult> {
        let verdict = std::mem::take(&mut self.check).finish();
        self.finish(verdict.map(drop).map_err(FetchError::from))
    }
}

impl State {
    /// `Writing` becomes `Reading`, with the same stream.
    fn into_reading(self) -> State {
        match self {
            State::Writing { stream, .. } => State::Reading { stream },
            other => other,
        }
    }
}

// ANCHOR: poll
impl Future for Fetch {
    type Output = ConnectionResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ConnectionResult> {
        // Fetch holds no pointers into itself, so it is `Unpin`, and pinning asks nothing of us.
        let this = self.get_mut();
        trace!("connection {}: polled", this.id());
        this.start_at_first_poll();
        // The deadline first: a connection past it fails, whatever it was waiting for.
        if this.deadline_passed(cx) {
            return this.timed_out();
        }
        // Then as far as we can go, until something is not ready (`ready!` returns `Pending`).
        loop {
            match &mut this.state {
                State::Connecting(connect) => match ready!(Pin::new(connect).poll(cx)) {
                    Ok(stream) => {
                        trace!("connection {}: connected ({})", this.id, token(&stream));
                        this.record().connected();
                        this.state = State::Writing { stream, written: 0 };
                    }
                    Err(e) => return this.fail(Stage::Connect, e),
                },
                State::Writing { stream, written } => {
                    match ready!(stream.poll_write(cx, &this.request[*written..])) {
                        // A write that takes nothing would loop forever: a broken socket.
                        Ok(0) => return this.fail(Stage::Write, ErrorKind::WriteZero.into()),
                        Ok(n) => *written += n,
                        Err(e) => return this.fail(Stage::Write, e),
                    }
                    if *written == this.request.len() {
                        trace!("connection {}: request written", this.id);
                        this.record().written();
                        this.state = std::mem::replace(&mut this.state, State::Done).into_reading();
                    }
                }
                State::Reading { stream } => {
                    let mut buf = [0u8; 8 * 1024];
                    match ready!(stream.poll_read(cx, &mut buf)) {
                        // End-of-file: the response is complete; check it.
                        Ok(0) => return this.checked(),
                        Ok(n) => {
                            trace!("connection {}: read {n} bytes", this.id);
                            this.record().received(n);
                            if let Err(e) = this.check.feed(&buf[..n]) {
                                return this.finish(Err(e.into()));
                            }
                        }
                        Err(e) => return this.fail(Stage::Read, e),
                    }
                }
                State::Done => panic!("a Fetch was polled after it finished"),
            }
        }
    }
}
// ANCHOR_END: poll

/// A stream's token, as traces print it.
fn token(stream: &TcpStream) -> String {
    format!("token {}", token_name(stream.token()))
}
