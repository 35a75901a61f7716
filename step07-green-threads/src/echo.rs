//! The echo server: one green thread per connection, written as blocking code; and the same
//! server shutting down gracefully on SIGINT or SIGTERM.

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use slab::Slab;
use testbed::cli::{ShutDown, Stopped};

use crate::green::signal::Signals;
use crate::hub::{self, sleep, yield_now};
use crate::net::{TcpListener, TcpStream};
use crate::sync::Event;

// ANCHOR: echo
/// Echoes one connection until the peer is done. (It borrows the stream: the graceful server
/// keeps a second reference to each, to shut it down from outside.)
fn echo(mut stream: &TcpStream) {
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
                if hub::try_spawn(move || echo(&stream)).is_err() {
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

// ANCHOR: serve_until
/// Accepts connections, a green thread each, until the stopper's own connection comes in
/// (`stopper` holds its address once the signal has come), or, if the stopper could not
/// connect, until the listener it shut down fails the accept; then closes the listener, tells
/// `stopped` how many connections are in flight, gives them `grace` to finish, and shuts down
/// the sockets of the rest.
fn serve_until(
    listener: Rc<TcpListener>,
    stopper: &Cell<Option<SocketAddr>>,
    shut: &Cell<bool>,
    grace: Duration,
    stopped: Stopped,
) -> ShutDown {
    // A second reference to each live connection's stream, to shut it down from here.
    let live = Rc::new(RefCell::new(Slab::new()));
    let finished = Rc::new(Cell::new(0));
    // Once the loop has stopped, the last connection to end sets `all_ended`.
    let draining = Rc::new(Cell::new(false));
    let all_ended = Event::new();
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            if shut.get() {
                break; // the stopper shut the listener down: accepting is over
            }
            sleep(Duration::from_millis(10));
            continue;
        };
        // The connection that wakes the loop is the stopper's; any other is a client's, even
        // after the signal (it connected before the stopper did), and is served.
        if stopper.get().is_some() && stream.peer_addr().ok() == stopper.get() {
            break;
        }
        let stream = Rc::new(stream);
        let key = live.borrow_mut().insert(Rc::clone(&stream));
        let (live_too, finished, draining, all_ended) = (
            Rc::clone(&live),
            Rc::clone(&finished),
            Rc::clone(&draining),
            all_ended.clone(),
        );
        let connection = move || {
            echo(&stream);
            finished.set(finished.get() + 1);
            let mut live = live_too.borrow_mut();
            live.remove(key);
            if live.is_empty() && draining.get() {
                all_ended.set();
            }
        };
        if hub::try_spawn(connection).is_err() {
            // No stack: the closure (and its reference) is gone; drop ours, closing it.
            live.borrow_mut().remove(key);
            sleep(Duration::from_millis(10));
        }
    }
    drop(listener);
    draining.set(true);
    let before = finished.get();
    let in_flight = live.borrow().len();
    stopped(in_flight);
    if in_flight > 0 {
        all_ended.wait_timeout(grace);
    }
    let ended = ShutDown {
        finished: finished.get() - before,
        cut: live.borrow().len(),
    };
    // Cut the rest. The hub could unwind a green thread from outside (it does, to the ones
    // left when `run` ends), but that ends it wherever it is; shutting its socket down makes
    // its blocking call return instead, `read` with end-of-file, `write` with an error, and
    // the green thread ends by itself, through its own code. The client sees the connection
    // closed, cleanly.
    for (_, stream) in live.borrow().iter() {
        let _ = stream.shutdown(Shutdown::Both);
    }
    if ended.cut > 0 {
        all_ended.wait();
    }
    ended
}
// ANCHOR_END: serve_until

/// The echo server, until SIGINT or SIGTERM: binds `addr`, tells `announce` where, serves,
/// and on the signal shuts down gracefully (see `serve_until`). A green thread waits for the
/// signal; then, since an accept loop blocked in `accept` wakes only for a connection, it
/// connects to the server itself, and tells the loop its own address so that the loop knows
/// that connection from a client's.
pub fn echo_server_until_signal(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()> + 'static,
    grace: Duration,
    stopped: Stopped,
) -> io::Result<ShutDown> {
    hub::run(move || {
        let signals = Signals::new(&[signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])?;
        let listener = Rc::new(TcpListener::bind(addr)?);
        let local = listener.local_addr()?;
        announce(local)?;
        let stopper_addr = Rc::new(Cell::new(None));
        let shut = Rc::new(Cell::new(false));
        let stopper = {
            let (stopper_addr, shut, listener) = (
                Rc::clone(&stopper_addr),
                Rc::clone(&shut),
                Rc::clone(&listener),
            );
            hub::spawn(move || {
                // An error here (the signal socket failing) stops the server too.
                let _ = signals.wait();
                // std's blocking connect, not the green one: on loopback it returns at once
                // (the kernel completes the handshake without the accept), and with no switch
                // in between, the address is set before the loop can see the connection.
                match std::net::TcpStream::connect(local) {
                    Ok(stream) => stopper_addr.set(stream.local_addr().ok()),
                    // Out of descriptors, most likely: then shut the listener down. The loop's
                    // accept fails and the loop ends; the clients still waiting in the backlog
                    // are refused instead of served, which a connection would have let them be.
                    Err(_) => {
                        shut.set(true);
                        if let Err(e) = listener.shutdown() {
                            eprintln!("cannot stop the accept loop: {e}");
                        }
                    }
                }
            })
        };
        let ended = serve_until(listener, &stopper_addr, &shut, grace, stopped);
        let _ = stopper.join();
        Ok(ended)
    })
}
