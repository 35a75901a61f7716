//! The echo server: one green thread per connection, written as blocking code.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use crate::hub::{self, sleep, yield_now};
use crate::net::{TcpListener, TcpStream};

// ANCHOR: echo
/// Echoes one connection until the peer is done.
fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    for round in 1.. {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
        // A client that keeps this socket busy never makes `read` park, so this green thread
        // would never switch: now and then, let the others run (gevent has the same need).
        if round % 32 == 0 {
            yield_now();
        }
    }
}

/// Accepts connections forever, a green thread each: a threaded server's accept loop, with
/// `thread::spawn` replaced by a green `spawn`.
fn serve(listener: TcpListener) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                if hub::try_spawn(move || echo(stream)).is_err() {
                    // No stack for a green thread (out of memory, or of mappings): the stream
                    // was dropped with the closure, so the client sees it closed. Pause, as
                    // for an accept error, rather than fail the next one at once too.
                    sleep(Duration::from_millis(10));
                }
            }
            // Out of descriptors, most likely: the connection waits in the backlog; try again.
            Err(_) => sleep(Duration::from_millis(10)),
        }
    }
}
// ANCHOR_END: echo

/// The echo server: binds `addr`, tells `announce` where, serves forever.
pub fn echo_server(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()> + 'static,
) -> io::Result<()> {
    hub::run(move || {
        let listener = TcpListener::bind(addr)?;
        announce(listener.local_addr()?)?;
        serve(listener);
        Ok(())
    })
}
