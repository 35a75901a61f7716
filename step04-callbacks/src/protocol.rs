//! Twisted's `Protocol`, `Transport` and `Factory`, on the event loop.
//!
//! The user writes a [`Protocol`]: what to do when a connection is made, when data arrives,
//! when the connection is lost. The framework owns the socket and gives the protocol a
//! [`Transport`] to write to: writes are buffered, and the loop flushes the buffer whenever
//! the socket can take more. A [`Factory`] builds one protocol per accepted connection.
//! [`listen_tcp`] ties them to a listening socket on an [`IoLoop`].

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;

use mio::Interest;
use mio::net::{TcpListener, TcpStream};

use crate::accept::accept_all;
use crate::io_loop::IoLoop;

/// When this much written data is waiting to go out, the connection stops reading until it
/// drains: a client that sends without reading cannot make the server buffer without limit.
const HIGH_WATER: usize = 1 << 20;

/// The size of one read.
const READ_CHUNK: usize = 16 * 1024;

// ANCHOR: protocol
/// What to do on a connection's events. Everything runs on the loop's thread, and must not
/// block.
pub trait Protocol {
    /// The connection is established; `transport` can be written to already.
    fn connection_made(&mut self, _transport: &mut Transport) {}
    /// Some bytes arrived (in whatever pieces the network cut them into).
    fn data_received(&mut self, data: &[u8], transport: &mut Transport);
    /// The connection is over: closed cleanly (`None`) or broken (`Some(error)`).
    fn connection_lost(&mut self, _reason: Option<&io::Error>) {}
}

/// Builds the protocol of each new connection.
pub trait Factory {
    /// The protocol it builds.
    type Protocol: Protocol + 'static;
    /// A protocol for a connection from `peer`.
    fn build_protocol(&mut self, peer: SocketAddr) -> Self::Protocol;
}
// ANCHOR_END: protocol

/// A protocol's way to the network: buffered writes, and closing.
#[derive(Debug)]
pub struct Transport {
    /// Bytes written by the protocol and not yet taken by the kernel, from `sent` on.
    outgoing: Vec<u8>,
    /// How much of `outgoing` has gone out.
    sent: usize,
    /// Set by `lose_connection`: close once everything is sent.
    closing: bool,
    /// The other end.
    peer: SocketAddr,
}

impl Transport {
    /// Queues `data` to be sent; it goes out as fast as the peer takes it.
    pub fn write(&mut self, data: &[u8]) {
        self.outgoing.extend_from_slice(data);
    }

    /// Closes the connection once everything written so far has been sent.
    pub fn lose_connection(&mut self) {
        self.closing = true;
    }

    /// The peer's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Bytes written and not yet sent.
    pub fn pending(&self) -> usize {
        self.outgoing.len() - self.sent
    }

    /// Sends what the kernel will take now. `Err` means the connection is broken.
    fn flush(&mut self, stream: &mut impl Write) -> io::Result<()> {
        while self.sent < self.outgoing.len() {
            match stream.write(&self.outgoing[self.sent..]) {
                Ok(n) => self.sent += n,
                // The send buffer is full: the rest goes when the socket is writable again.
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // Forget what has gone out. All of it: start again at the front. Part of it: move the
        // rest to the front once the sent part is at least as long (so each byte is moved at
        // most about once, and the buffer stays within twice what is waiting). Waiting for the
        // buffer to drain completely is not enough: a peer that reads steadily but a little
        // slower than it writes keeps something waiting forever, and the buffer would keep
        // every byte ever sent.
        if self.sent == self.outgoing.len() {
            self.outgoing.clear();
            self.sent = 0;
        } else if self.sent >= self.pending() {
            self.outgoing.drain(..self.sent);
            self.sent = 0;
        }
        Ok(())
    }
}

/// Listens on `addr` and serves every connection with a protocol from `factory`. Returns the
/// address it listens on.
pub fn listen_tcp<F: Factory + 'static>(
    io_loop: &IoLoop,
    addr: SocketAddr,
    mut factory: F,
) -> io::Result<SocketAddr> {
    let listener = TcpListener::from_std(testbed::server::listen(addr, 8192)?);
    let local = listener.local_addr()?;
    io_loop.add_handler(
        listener,
        Interest::READABLE,
        move |io_loop, listener, ready| {
            accept_all(io_loop, listener, ready, |io_loop, stream, peer| {
                serve(io_loop, stream, peer, factory.build_protocol(peer));
            });
        },
    )?;
    Ok(local)
}

// ANCHOR: serve
/// Runs one connection: reads feed the protocol, the transport's buffer is flushed when the
/// socket can take it, and the connection ends when the peer is done or the protocol closes.
fn serve<P: Protocol + 'static>(
    io_loop: &IoLoop,
    stream: TcpStream,
    peer: SocketAddr,
    mut protocol: P,
) {
    let mut transport = Transport {
        outgoing: Vec::new(),
        sent: 0,
        closing: false,
        peer,
    };
    protocol.connection_made(&mut transport);
    let mut peer_done = false;
    let mut interest = Interest::READABLE | Interest::WRITABLE;
    let added = io_loop.add_handler(stream, interest, move |io_loop, stream, ready| {
        let mut broken = None;
        let mut buf = [0u8; READ_CHUNK];
        let mut rounds = 0;
        let stopped_early = loop {
            // Read everything there is (mio tells us only once), unless we are holding back
            // because too much is waiting to go out.
            let mut would_block = false;
            while !peer_done && transport.pending() < HIGH_WATER {
                match stream.read(&mut buf) {
                    // End-of-file: the peer will send no more (it may still read our answer).
                    Ok(0) => peer_done = true,
                    Ok(n) => protocol.data_received(&buf[..n], &mut transport),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        would_block = true;
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => {
                        broken = Some(e);
                        break;
                    }
                }
            }
            if broken.is_none()
                && let Err(e) = transport.flush(stream)
            {
                broken = Some(e);
            }
            // Reading stopped because too much was waiting, and the flush has made room: read
            // on now, since no new event will come for bytes that are already there. A few
            // rounds at most, so one busy connection cannot keep the loop from the others.
            let can_read_more =
                broken.is_none() && !peer_done && !would_block && transport.pending() < HIGH_WATER;
            rounds += 1;
            if !can_read_more {
                break false;
            }
            if rounds == 8 {
                break true;
            }
        };
        let drained = transport.pending() == 0;
        if broken.is_some() || (drained && (peer_done || transport.closing)) {
            protocol.connection_lost(broken.as_ref());
            io_loop.remove_handler(ready.token);
            return;
        }
        // Wait for what can move us on: room to write if anything is waiting to go out;
        // something to read unless the peer is done or we are holding back.
        let readable = !peer_done && transport.pending() < HIGH_WATER;
        let next = match (readable, !drained) {
            (true, true) => Interest::READABLE | Interest::WRITABLE,
            (true, false) => Interest::READABLE,
            (false, _) => Interest::WRITABLE,
        };
        // Registering again re-arms the readiness: if we stopped early with bytes still
        // waiting, the kernel reports them again.
        if next != interest || stopped_early {
            interest = next;
            let _ = io_loop.update_handler(ready.token, next);
        }
    });
    // If the socket could not even be registered, the closure was dropped, and with it the
    // stream (closing the connection) and the protocol.
    drop(added);
}
// ANCHOR_END: serve

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket with a small send buffer, as a slow link has: each flush, the kernel takes at
    /// most `room` bytes, then says `WouldBlock`. It keeps what it took, to check the order.
    struct SmallSendBuffer {
        room: usize,
        taken_now: usize,
        received: Vec<u8>,
    }

    impl Write for SmallSendBuffer {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            let n = data.len().min(self.room - self.taken_now);
            if n == 0 {
                return Err(ErrorKind::WouldBlock.into());
            }
            self.taken_now += n;
            self.received.extend_from_slice(&data[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Twisted's classic "quote of the day" protocol: write on `connection_made`, then
    /// `lose_connection`. The transport closes once the quote (bigger than a send buffer, so
    /// it needs several writable events) has all gone out, and the client reads it to EOF.
    #[test]
    fn lose_connection_closes_after_everything_is_sent() {
        struct Quote;
        impl Protocol for Quote {
            fn connection_made(&mut self, transport: &mut Transport) {
                transport.write(&vec![b'q'; 4 << 20]);
                transport.lose_connection();
            }
            fn data_received(&mut self, _data: &[u8], _transport: &mut Transport) {}
        }
        struct QuoteFactory;
        impl Factory for QuoteFactory {
            type Protocol = Quote;
            fn build_protocol(&mut self, _peer: SocketAddr) -> Quote {
                Quote
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let io_loop = IoLoop::new().unwrap();
            let addr = listen_tcp(&io_loop, ([127, 0, 0, 1], 0).into(), QuoteFactory).unwrap();
            tx.send(addr).unwrap();
            let _ = io_loop.run();
        });
        let addr = rx.recv().unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut quote = Vec::new();
        client.read_to_end(&mut quote).unwrap();
        assert_eq!(quote.len(), 4 << 20, "all of it, then end-of-file");
        assert!(quote.iter().all(|&b| b == b'q'));
    }

    /// A peer that reads steadily, but slower than the protocol writes: the transport always
    /// has something waiting, never drains completely, and its buffer must still not grow past
    /// about twice what is waiting. (Before the fix it kept every byte ever sent: 40 MiB here.)
    #[test]
    fn a_steady_slow_reader_does_not_make_the_buffer_grow() {
        let mut transport = Transport {
            outgoing: Vec::new(),
            sent: 0,
            closing: false,
            peer: ([127, 0, 0, 1], 1).into(),
        };
        let mut socket = SmallSendBuffer {
            room: 4 * 1024,
            taken_now: 0,
            received: Vec::new(),
        };
        let mut written: u64 = 0;
        let mut largest = 0;
        for _ in 0..10_000 {
            // The serve loop's rule: read (and echo 16 KiB) only while under the high-water mark.
            if transport.pending() < HIGH_WATER {
                let chunk: Vec<u8> = (written..written + READ_CHUNK as u64)
                    .map(|i| (i % 251) as u8)
                    .collect();
                transport.write(&chunk);
                written += chunk.len() as u64;
            }
            socket.taken_now = 0; // the peer read: room again
            transport.flush(&mut socket).unwrap();
            assert!(
                transport.pending() > 0,
                "the reader is slower: something always waits"
            );
            largest = largest.max(transport.outgoing.len());
        }
        assert!(
            largest <= 2 * (HIGH_WATER + READ_CHUNK),
            "the buffer grew to {largest} bytes with at most {} waiting",
            HIGH_WATER + READ_CHUNK
        );
        // What went out is what was written, in order.
        let sent = socket.received.len() as u64;
        assert!(sent >= 10_000 * 4 * 1024 - READ_CHUNK as u64);
        assert!(
            socket
                .received
                .iter()
                .enumerate()
                .all(|(i, &b)| b == (i % 251) as u8),
            "bytes were lost, repeated or reordered"
        );
    }
}
