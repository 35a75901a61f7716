//! The client side as deferreds: connect, send, read a response. Each starts an operation on
//! the loop and returns a [`Deferred`] that fires when the operation is over.
//!
//! Each operation registers its socket with the loop for as long as it waits, and writes the
//! handler's token into a [`Watch`], so that whoever started it can cancel it (a timeout, in the
//! fan-out): removing the handler drops the socket and the trigger inside it, and the deferred
//! then never fires. Callbacks have no built-in way to be cancelled; this is ours.

use std::cell::Cell;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;

use mio::net::TcpStream;
use mio::{Interest, Token};
use testbed::{FetchError, ResponseCheck, Stage};

use crate::deferred::Deferred;
use crate::io_loop::IoLoop;

// ANCHOR: connect
/// The token of the handler an operation is waiting in, if any: what to remove to cancel it.
pub type Watch = Rc<Cell<Option<Token>>>;

/// Starts a non-blocking connect to `addr`. The deferred fires with the connected stream, or
/// with the reason it could not connect.
pub fn connect(
    io_loop: &IoLoop,
    addr: SocketAddr,
    watch: &Watch,
) -> Deferred<TcpStream, FetchError> {
    let stream = match TcpStream::connect(addr) {
        Ok(stream) => stream,
        Err(e) => return Deferred::fired(Err(FetchError::io(Stage::Connect, e))),
    };
    let (deferred, trigger) = Deferred::new();
    let mut trigger = Some(trigger);
    let watching = Rc::clone(watch);
    let added = io_loop.add_handler(stream, Interest::WRITABLE, move |io_loop, stream, ready| {
        // Writable means the handshake is over, not that it worked: SO_ERROR says which.
        let outcome = match stream.take_error() {
            Ok(None) => match stream.peer_addr() {
                Ok(_) => Ok(()),
                // Not connected after all (a spurious report): wait for the next one.
                Err(e) if e.kind() == ErrorKind::NotConnected => return,
                Err(e) => Err(e),
            },
            Ok(Some(e)) | Err(e) => Err(e),
        };
        let Some(trigger) = trigger.take() else {
            return;
        };
        watching.set(None);
        match outcome {
            // Hand the stream on once this callback has returned (it is using it now).
            Ok(()) => io_loop.detach(ready.token, move |_, stream: TcpStream| {
                trigger.succeed(stream)
            }),
            Err(e) => {
                io_loop.remove_handler(ready.token);
                trigger.fail(FetchError::io(Stage::Connect, e));
            }
        }
    });
    watch_or_fail(added, watch, deferred, Stage::Connect)
}
// ANCHOR_END: connect

/// Sends all of `data` on `stream`; the deferred fires with the stream when the kernel has
/// taken the last byte.
pub fn send(
    io_loop: &IoLoop,
    stream: TcpStream,
    data: Vec<u8>,
    watch: &Watch,
) -> Deferred<TcpStream, FetchError> {
    let (deferred, trigger) = Deferred::new();
    let (mut trigger, mut sent) = (Some(trigger), 0);
    let watching = Rc::clone(watch);
    let added = io_loop.add_handler(stream, Interest::WRITABLE, move |io_loop, stream, ready| {
        let mut failed = None;
        while sent < data.len() {
            match stream.write(&data[sent..]) {
                Ok(n) => sent += n,
                // The send buffer is full: wait to be told there is room.
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let Some(trigger) = trigger.take() else {
            return;
        };
        watching.set(None);
        match failed {
            None => io_loop.detach(ready.token, move |_, stream: TcpStream| {
                trigger.succeed(stream)
            }),
            Some(e) => {
                io_loop.remove_handler(ready.token);
                trigger.fail(FetchError::io(Stage::Write, e));
            }
        }
    });
    watch_or_fail(added, watch, deferred, Stage::Write)
}

/// Reads `stream` to end-of-file, feeding every byte to `check` and counting them with
/// `on_bytes`; the deferred fires with the check (to finish) at end-of-file, or with the
/// failure: a read error, or a response the check rejected (and then reading stops).
pub fn read_response(
    io_loop: &IoLoop,
    stream: TcpStream,
    check: ResponseCheck,
    mut on_bytes: impl FnMut(usize) + 'static,
    watch: &Watch,
) -> Deferred<ResponseCheck, FetchError> {
    let (deferred, trigger) = Deferred::new();
    let mut pending = Some((check, trigger));
    let watching = Rc::clone(watch);
    let added = io_loop.add_handler(stream, Interest::READABLE, move |io_loop, stream, ready| {
        let Some((check, _)) = pending.as_mut() else {
            return;
        };
        let mut buf = [0u8; 8 * 1024];
        // Everything there is, until WouldBlock: mio will not report it again.
        let outcome = loop {
            match stream.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    on_bytes(n);
                    if let Err(e) = check.feed(&buf[..n]) {
                        break Err(FetchError::Response(e));
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => break Err(FetchError::io(Stage::Read, e)),
            }
        };
        let Some((check, trigger)) = pending.take() else {
            return;
        };
        watching.set(None);
        io_loop.remove_handler(ready.token);
        match outcome {
            Ok(()) => trigger.succeed(check),
            Err(e) => trigger.fail(e),
        }
    });
    watch_or_fail(added, watch, deferred, Stage::Read)
}

/// Records the handler in `watch`; if it could not be registered, the operation has failed.
fn watch_or_fail<T: 'static>(
    added: std::io::Result<Token>,
    watch: &Watch,
    deferred: Deferred<T, FetchError>,
    stage: Stage,
) -> Deferred<T, FetchError> {
    match added {
        Ok(token) => {
            watch.set(Some(token));
            deferred
        }
        Err(e) => Deferred::fired(Err(FetchError::io(stage, e))),
    }
}
