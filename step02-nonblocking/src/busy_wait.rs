//! The fan-out with non-blocking sockets and no waiting at all: one loop visits every socket in
//! turn, again and again, asking each "can you go on?", until all are done.

use testbed::{ConnectionRecord, ConnectionResult, FetchError, ResponseCheck, Stage, Workload};

use crate::sys::NonBlockingSocket;

/// The size of the read buffer shared by all connections (one visit reads into it at a time).
const READ_BUFFER: usize = 8 * 1024;

/// What the fan-out returns: the results and how often the kernel said "not yet".
#[derive(Debug, Clone)]
pub struct BusyWaitOutcome {
    /// One result per connection.
    pub results: Vec<ConnectionResult>,
    /// How many times a call answered "not yet" (`EINPROGRESS` still going, `EWOULDBLOCK`).
    pub not_yet: u64,
    /// How many times the loop went round all the unfinished connections.
    pub passes: u64,
}

/// Where a connection is.
#[derive(Debug)]
enum State {
    /// The handshake is in flight.
    Connecting,
    /// Connected; `written` bytes of the request have been taken by the kernel.
    Writing { written: usize },
    /// The request is sent; reading the response until end-of-file.
    Reading,
}

/// What one visit to a connection achieved.
#[derive(Debug, PartialEq, Eq)]
enum Visit {
    /// It had to stop at a "not yet".
    NotYet,
    /// It finished (well or badly).
    Finished,
}

/// One connection in flight.
#[derive(Debug)]
struct Connection {
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
}

impl Connection {
    // ANCHOR: visit
    /// Does everything this connection can do right now without waiting, and returns as soon
    /// as the kernel says "not yet". `Err` ends the connection.
    fn visit(&mut self, buf: &mut [u8]) -> Result<Visit, FetchError> {
        loop {
            let stage = match self.state {
                State::Connecting => Stage::Connect,
                State::Writing { .. } => Stage::Write,
                State::Reading => Stage::Read,
            };
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
                        Some(_) => {
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
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        return Ok(Visit::NotYet);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
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
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        return Ok(Visit::NotYet);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(FetchError::io(stage, e)),
                },
            }
        }
    }
    // ANCHOR_END: visit
}

/// Opens the socket of connection `id` and starts its connect.
fn start(workload: &Workload, id: usize) -> Result<Connection, ConnectionResult> {
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
        }),
        Err(e) => Err(record.finish(Err(FetchError::io(Stage::Connect, e)))),
    }
}

// ANCHOR: busy_wait
/// Starts every connect, then visits the unfinished connections in turn, round and round,
/// without ever sleeping, until all are done.
pub fn busy_wait(workload: &Workload) -> BusyWaitOutcome {
    let mut results = Vec::with_capacity(workload.len());
    let mut in_flight = Vec::with_capacity(workload.len());
    for id in 0..workload.len() {
        match start(workload, id) {
            Ok(connection) => in_flight.push(connection),
            Err(failed) => results.push(failed),
        }
    }
    let mut buf = vec![0u8; READ_BUFFER];
    let (mut not_yet, mut passes) = (0, 0);
    while !in_flight.is_empty() {
        passes += 1;
        // Visit each connection once; keep the ones that are not finished for the next pass.
        in_flight.retain_mut(|connection| match connection.visit(&mut buf) {
            Ok(Visit::NotYet) => {
                not_yet += 1;
                true
            }
            Ok(Visit::Finished) => {
                results.push(connection.record.clone().finish(Ok(())));
                false
            }
            Err(e) => {
                results.push(connection.record.clone().finish(Err(e)));
                false
            }
        });
    }
    results.sort_by_key(|r| r.id);
    BusyWaitOutcome {
        results,
        not_yet,
        passes,
    }
}
// ANCHOR_END: busy_wait
