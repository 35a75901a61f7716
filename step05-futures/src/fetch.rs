//! One connection of the fan-out as a future written by hand: an `enum` of states, and a `poll`
//! that moves from one to the next as far as it can, returning `Pending` at the first thing that
//! is not ready. This is the code the compiler writes for us from an `async fn` in step 6.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::time::Duration;

use testbed::{
    ConnectionRecord, ConnectionResult, FetchError, ResponseCheck, RunClock, Stage, Workload,
};

use crate::net::{Connect, TcpStream};
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
}

// ANCHOR: poll
impl Future for Fetch {
    type Output = ConnectionResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ConnectionResult> {
        // Fetch holds no pointers into itself, so it is `Unpin`, and pinning asks nothing of us.
        let this = self.get_mut();
        trace!("connection {}: polled", this.id());
        if this.record.is_none() {
            // The first poll: the connection starts now.
            let record = ConnectionRecord::start(this.clock, this.id, this.timeout);
            this.deadline = Some(Sleep::until(record.deadline()));
            this.record = Some(record);
        }
        // The deadline first: a connection past it fails, whatever it was waiting for.
        let deadline = this.deadline.as_mut().expect("set at the first poll");
        if Pin::new(deadline).poll(cx).is_ready() {
            let stage = this
                .record
                .as_ref()
                .map_or(Stage::Connect, ConnectionRecord::stage_reached);
            let error = this
                .record
                .as_ref()
                .map(|r| r.timed_out(stage))
                .expect("not finished");
            return this.finish(Err(error));
        }
        loop {
            match &mut this.state {
                State::Connecting(connect) => match Pin::new(connect).poll(cx) {
                    Poll::Ready(Ok(stream)) => {
                        trace!(
                            "connection {}: connected (token {})",
                            this.id(),
                            crate::reactor::token_name(stream.token())
                        );
                        this.record.as_mut().expect("not finished").connected();
                        this.state = State::Writing { stream, written: 0 };
                    }
                    Poll::Ready(Err(e)) => {
                        return this.finish(Err(FetchError::io(Stage::Connect, e)));
                    }
                    Poll::Pending => return Poll::Pending,
                },
                State::Writing { stream, written } => {
                    match stream.poll_write(cx, &this.request[*written..]) {
                        // A write that takes nothing would loop forever: a broken socket.
                        Poll::Ready(Ok(0)) => {
                            let zero = std::io::Error::from(std::io::ErrorKind::WriteZero);
                            return this.finish(Err(FetchError::io(Stage::Write, zero)));
                        }
                        Poll::Ready(Ok(n)) => {
                            *written += n;
                            if *written == this.request.len() {
                                trace!("connection {}: request written", this.id());
                                this.record.as_mut().expect("not finished").written();
                                let State::Writing { stream, .. } =
                                    std::mem::replace(&mut this.state, State::Done)
                                else {
                                    unreachable!("in the Writing state")
                                };
                                this.state = State::Reading { stream };
                            }
                        }
                        Poll::Ready(Err(e)) => {
                            return this.finish(Err(FetchError::io(Stage::Write, e)));
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
                State::Reading { stream } => {
                    let mut buf = [0u8; 8 * 1024];
                    match stream.poll_read(cx, &mut buf) {
                        // End-of-file: the response is complete; check it.
                        Poll::Ready(Ok(0)) => {
                            let checked = std::mem::take(&mut this.check).finish();
                            return this.finish(checked.map(drop).map_err(FetchError::from));
                        }
                        Poll::Ready(Ok(n)) => {
                            this.record.as_mut().expect("not finished").received(n);
                            if let Err(e) = this.check.feed(&buf[..n]) {
                                return this.finish(Err(e.into()));
                            }
                        }
                        Poll::Ready(Err(e)) => {
                            return this.finish(Err(FetchError::io(Stage::Read, e)));
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
                State::Done => panic!("a Fetch was polled after it finished"),
            }
        }
    }
}
// ANCHOR_END: poll
