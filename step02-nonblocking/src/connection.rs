//! One connection of the fan-out as a small state machine over a non-blocking socket.
//!
//! A non-blocking call can stop at any "not yet", so the connection has to remember where it
//! was: connecting, writing (and how much is written), or reading. [`Connection::visit`] does
//! everything that can be done right now and returns at the first "not yet". This step calls
//! it over and over; step 3 calls it only when the kernel says the socket is ready, and keeps
//! this type unchanged.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Instant;

use testbed::{ConnectionRecord, ConnectionResult, FetchError, ResponseCheck, Stage, Workload};

use crate::sys::NonBlockingSocket;

/// Where a connection is.
#[derive(Debug)]
enum State {
    /// The handshake is in flight.
    Connecting,
    /// Connected; `written` bytes of the request have been taken by the kernel.
    Writing {
        /// Bytes of the request already sent.
        written: usize,
    },
    /// The request is sent; reading the response until end-of-file.
    Reading,
}

/// What one visit to a connection achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// It had to stop at a "not yet".
    NotYet,
    /// It finished: the response is complete and checked.
    Finished,
}

// ANCHOR: wants
/// What a connection is waiting for when it stops at a "not yet".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    /// To be able to write: the end of the handshake, or room in the send buffer.
    Write,
    /// Something to read: response bytes, or end-of-file.
    Read,
}
// ANCHOR_END: wants

/// One connection in flight.
#[derive(Debug)]
pub struct Connection {
    /// The socket, in non-blocking mode.
    socket: NonBlockingSocket,
    /// The request bytes to send.
    request: Vec<u8>,
    /// How far this connection has got.
    state: State,
    /// The response check, fed as bytes arrive.
    check: ResponseCheck,
    /// The connection's times, for the report.
    record: ConnectionRecord,
    /// The server's address, once connected.
    peer: Option<SocketAddr>,
}

impl Connection {
    // ANCHOR: start
    /// Opens the socket of connection `id` of `workload` and starts its connect. A connection
    /// that cannot even start (no descriptor left, say) comes back as its failed result.
    pub fn start(workload: &Workload, id: usize) -> Result<Connection, ConnectionResult> {
        let target = &workload.targets[id];
        let record = workload.record(id);
        let opened = NonBlockingSocket::new(&target.addr).and_then(|socket| {
            // Connected at once or EINPROGRESS, it makes no difference here: the first visit
            // finds out which.
            socket.connect(&target.addr)?;
            Ok(socket)
        });
        match opened {
            Ok(socket) => Ok(Connection {
                socket,
                request: target.request(),
                state: State::Connecting,
                check: workload.response_check(),
                record,
                peer: None,
            }),
            Err(e) => Err(record.finish(Err(FetchError::io(Stage::Connect, e)))),
        }
    }
    // ANCHOR_END: start

    /// The connection's number in the workload.
    pub fn id(&self) -> usize {
        self.record.id()
    }

    /// The socket's descriptor number.
    pub fn fd(&self) -> RawFd {
        self.socket.as_fd().as_raw_fd()
    }

    /// The server's address, once the connection is established.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// When this connection's deadline passes.
    pub fn deadline(&self) -> Instant {
        self.record.deadline()
    }

    /// What the connection waits for: to write while connecting or sending, to read after.
    pub fn wants(&self) -> Wants {
        match self.state {
            State::Connecting | State::Writing { .. } => Wants::Write,
            State::Reading => Wants::Read,
        }
    }

    /// The stage the connection is in, for error messages.
    fn stage(&self) -> Stage {
        match self.state {
            State::Connecting => Stage::Connect,
            State::Writing { .. } => Stage::Write,
            State::Reading => Stage::Read,
        }
    }

    /// The error of a connection whose deadline has passed, in the stage it reached.
    pub fn timed_out(&self) -> FetchError {
        self.record.timed_out(self.stage())
    }

    // ANCHOR: visit
    /// Does everything this connection can do right now without waiting, and returns as soon
    /// as the kernel says "not yet". `Err` ends the connection.
    pub fn visit(&mut self, buf: &mut [u8]) -> Result<Visit, FetchError> {
        loop {
            let stage = self.stage();
            if self.record.time_left(stage).is_err() {
                return Err(self.record.timed_out(stage));
            }
            match &mut self.state {
                State::Connecting => {
                    // A failed handshake leaves its error in SO_ERROR; a finished one makes
                    // getpeername work. Neither: still in flight.
                    if let Some(e) = self
                        .socket
                        .take_error()
                        .map_err(|e| FetchError::io(stage, e))?
                    {
                        return Err(FetchError::io(stage, e));
                    }
                    match self
                        .socket
                        .peer_addr()
                        .map_err(|e| FetchError::io(stage, e))?
                    {
                        Some(peer) => {
                            self.peer = Some(peer);
                            self.record.connected();
                            self.state = State::Writing { written: 0 };
                        }
                        None => return Ok(Visit::NotYet),
                    }
                }
                State::Writing { written } => match self.socket.write(&self.request[*written..]) {
                    // The kernel may take only part of what we offer: remember how far we got.
                    Ok(n) => {
                        *written += n;
                        if *written == self.request.len() {
                            self.record.written();
                            self.state = State::Reading;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Visit::NotYet),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(FetchError::io(stage, e)),
                },
                State::Reading => match self.socket.read(buf) {
                    // End-of-file: the server closed, the response is complete.
                    Ok(0) => {
                        std::mem::take(&mut self.check).finish()?;
                        return Ok(Visit::Finished);
                    }
                    Ok(n) => {
                        self.record.received(n);
                        self.check.feed(&buf[..n])?;
                    }
                    // Nothing has arrived yet: the server is still thinking.
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Visit::NotYet),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(FetchError::io(stage, e)),
                },
            }
        }
    }
    // ANCHOR_END: visit

    /// Ends the connection (closing its socket) and returns its result.
    pub fn finish(self, outcome: Result<(), FetchError>) -> ConnectionResult {
        self.record.finish(outcome)
    }
}

impl AsFd for Connection {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}
