//! The talk's warning about implicit switches, run: 100 green threads each deposit 1 into a
//! shared balance, and between reading the balance and writing it back each one calls a
//! function that looks harmless but does network I/O, so it switches to the hub.
//!
//! ```text
//! cargo run --release -p step07-green-threads --bin implicit_switch
//! ```
#![forbid(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;

use step07_green_threads::hub;
use step07_green_threads::net::TcpStream;
use testbed::{ServerConfig, ServerHandle};

const DEPOSITS: usize = 100;

// ANCHOR: audit
/// Sends an audit record to a server and waits for its answer. Nothing in its signature says
/// it can switch to another green thread; its socket does.
fn audit(server: SocketAddr) -> io::Result<()> {
    let mut stream = TcpStream::connect(server)?;
    stream.write_all(b"GET /delay/1 HTTP/1.1\r\nHost: audit\r\n\r\n")?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(())
}
// ANCHOR_END: audit

fn main() -> io::Result<()> {
    let server = ServerHandle::start(ServerConfig::default())?;
    let addr = server.addr();
    // The second case's panics are expected: print them as results, not as noise.
    std::panic::set_hook(Box::new(|_| {}));
    hub::run(move || {
        // ANCHOR: lost_update
        // 1. A Cell: read, audit (switch!), write back what was read plus one.
        let balance = Rc::new(Cell::new(0));
        let deposits: Vec<_> = (0..DEPOSITS)
            .map(|_| {
                let balance = Rc::clone(&balance);
                hub::spawn(move || {
                    let read = balance.get();
                    audit(addr)?;
                    balance.set(read + 1);
                    io::Result::Ok(())
                })
            })
            .collect();
        for deposit in hub::join_all(deposits) {
            deposit.expect("no panic")?;
        }
        println!(
            "Cell, audit between read and write:   {DEPOSITS} deposits, balance {}",
            balance.get()
        );
        // ANCHOR_END: lost_update

        // ANCHOR: refcell
        // 2. A RefCell whose borrow is held across the audit: the next green thread to borrow
        //    finds it borrowed, and panics instead of losing an update.
        let balance = Rc::new(RefCell::new(0));
        let deposits: Vec<_> = (0..DEPOSITS)
            .map(|_| {
                let balance = Rc::clone(&balance);
                hub::spawn(move || {
                    let mut guard = balance.borrow_mut();
                    audit(addr)?;
                    *guard += 1;
                    io::Result::Ok(())
                })
            })
            .collect();
        let panicked = hub::join_all(deposits)
            .into_iter()
            .filter(|deposit| deposit.is_err())
            .count();
        println!(
            "RefCell held across the audit:         {} deposits, balance {}, {panicked} green threads panicked (already borrowed)",
            DEPOSITS,
            balance.borrow()
        );
        // ANCHOR_END: refcell

        // ANCHOR: fixed
        // 3. The fix: no switch between the read and the write. Audit first, then update in
        //    one step that cannot switch.
        let balance = Rc::new(Cell::new(0));
        let deposits: Vec<_> = (0..DEPOSITS)
            .map(|_| {
                let balance = Rc::clone(&balance);
                hub::spawn(move || {
                    audit(addr)?;
                    balance.set(balance.get() + 1);
                    io::Result::Ok(())
                })
            })
            .collect();
        for deposit in hub::join_all(deposits) {
            deposit.expect("no panic")?;
        }
        println!(
            "Cell, audit before the update:        {DEPOSITS} deposits, balance {}",
            balance.get()
        );
        // ANCHOR_END: fixed
        Ok(())
    })
}
