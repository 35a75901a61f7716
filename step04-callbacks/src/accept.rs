//! Accepting connections on a listening socket registered with the loop.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use mio::Interest;
use mio::net::{TcpListener, TcpStream};

use crate::io_loop::{IoLoop, Ready};

// ANCHOR: accept_all
/// Accepts every connection waiting on `listener` and hands each to `on_accept`. mio reports
/// a listener once per change, and one report may stand for many waiting connections, so we
/// take them all, until the kernel says `WouldBlock`.
pub fn accept_all(
    io_loop: &IoLoop,
    listener: &mut TcpListener,
    ready: Ready,
    mut on_accept: impl FnMut(&IoLoop, TcpStream, SocketAddr),
) {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => on_accept(io_loop, stream, peer),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // Out of descriptors, most likely: the waiting connections stay queued in the
            // kernel. Ask to be told again in 10 ms (re-registering re-arms the readiness).
            Err(_) => {
                let token = ready.token;
                io_loop.call_later(Duration::from_millis(10), move |io_loop| {
                    let _ = io_loop.update_handler(token, Interest::READABLE);
                });
                return;
            }
        }
    }
}
// ANCHOR_END: accept_all
