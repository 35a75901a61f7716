//! The talk's Tornado program: a server that says hello to everyone who connects.

use std::io::{self, ErrorKind, Write};
use std::net::SocketAddr;

use mio::Interest;
use mio::net::{TcpListener, TcpStream};

use crate::accept::accept_all;
use crate::io_loop::IoLoop;

/// What every client gets.
pub const GREETING: &[u8] = b"Hello\n";

// ANCHOR: hello
/// Listens on `addr` and greets every connection. Returns the address it listens on.
pub fn hello_server(io_loop: &IoLoop, addr: SocketAddr) -> io::Result<SocketAddr> {
    let listener = TcpListener::from_std(testbed::server::listen(addr, 8192)?);
    let local = listener.local_addr()?;
    io_loop.add_handler(listener, Interest::READABLE, |io_loop, listener, ready| {
        accept_all(io_loop, listener, ready, |io_loop, stream, _peer| {
            greet(io_loop, stream)
        });
    })?;
    Ok(local)
}

// ANCHOR: greet
/// Sends the greeting and closes. Usually the kernel takes all six bytes at once; if not, the
/// rest goes out when the socket is writable.
fn greet(io_loop: &IoLoop, mut stream: TcpStream) {
    let mut sent = 0;
    if write_some(&mut stream, &mut sent).is_err() || sent == GREETING.len() {
        return; // dropping the stream closes it
    }
    let _ = io_loop.add_handler(stream, Interest::WRITABLE, move |io_loop, stream, ready| {
        if write_some(stream, &mut sent).is_err() || sent == GREETING.len() {
            io_loop.remove_handler(ready.token);
        }
    });
}
// ANCHOR_END: greet
// ANCHOR_END: hello

/// Writes as much of the rest of the greeting as the kernel takes now.
fn write_some(stream: &mut TcpStream, sent: &mut usize) -> io::Result<()> {
    while *sent < GREETING.len() {
        match stream.write(&GREETING[*sent..]) {
            Ok(n) => *sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
