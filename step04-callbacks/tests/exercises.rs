//! The worked solutions of chapter 4's exercises (callbacks on an event loop): a numbered hello
//! server two ways, a line-reversing protocol, a client that never reads, a forgotten watch,
//! and `gather` with a fan-out built on it.

use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream as StdStream};
use std::rc::Rc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use mio::Interest;
use mio::net::{TcpListener, TcpStream};
use step04_callbacks::IoLoop;
use step04_callbacks::accept::accept_all;
use step04_callbacks::client::{Watch, connect, read_response, send};
use step04_callbacks::deferred::{Deferred, Trigger};
use step04_callbacks::io_loop::TimerId;
use step04_callbacks::protocol::{Factory, Protocol, Transport, listen_tcp};
use testbed::{
    ConnectionRecord, ConnectionResult, FetchError, ServerConfig, ServerHandle, Target, Workload,
};

/// An event loop on a thread of its own, serving what `setup` registered, until dropped or
/// stopped: a connection to its stop port makes the loop stop. `setup` also returns what to
/// hand back (computed on the loop's thread) once the loop has stopped.
struct LoopThread<T> {
    addr: SocketAddr,
    stop_addr: SocketAddr,
    thread: Option<JoinHandle<T>>,
}

type Finally<T> = Box<dyn FnOnce() -> T>;

fn spawn_loop<T, F>(setup: F) -> LoopThread<T>
where
    T: Send + 'static,
    F: FnOnce(&IoLoop) -> io::Result<(SocketAddr, Finally<T>)> + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let io_loop = IoLoop::new().unwrap();
        let (addr, finally) = setup(&io_loop).unwrap();
        let stop = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let stop_addr = stop.local_addr().unwrap();
        io_loop
            .add_handler(stop, Interest::READABLE, |io_loop, _, _| io_loop.stop())
            .unwrap();
        tx.send((addr, stop_addr)).unwrap();
        io_loop.run().unwrap();
        finally()
    });
    let (addr, stop_addr) = rx.recv().expect("the loop thread started");
    LoopThread {
        addr,
        stop_addr,
        thread: Some(thread),
    }
}

impl<T> LoopThread<T> {
    /// Stops the loop and returns what `setup` said to hand back.
    fn stop(mut self) -> T {
        let _ = StdStream::connect(self.stop_addr);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl<T> Drop for LoopThread<T> {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = StdStream::connect(self.stop_addr);
            let _ = thread.join();
        }
    }
}

/// Connects, reads to end-of-file (for at most 10 s of silence), returns what came.
fn read_all(addr: SocketAddr) -> String {
    let mut stream = StdStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

/// Sends `message` and closes: `hello.rs`'s `greet`, for a message of any length.
fn greet(io_loop: &IoLoop, mut stream: TcpStream, message: Vec<u8>) {
    let mut sent = 0;
    if write_some(&mut stream, &message, &mut sent).is_err() || sent == message.len() {
        return;
    }
    let _ = io_loop.add_handler(stream, Interest::WRITABLE, move |io_loop, stream, ready| {
        if write_some(stream, &message, &mut sent).is_err() || sent == message.len() {
            io_loop.remove_handler(ready.token);
        }
    });
}

/// Writes as much of the rest of `message` as the kernel takes now.
fn write_some(stream: &mut TcpStream, message: &[u8], sent: &mut usize) -> io::Result<()> {
    while *sent < message.len() {
        match stream.write(&message[*sent..]) {
            Ok(n) => *sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

// ANCHOR: numbered_owned
/// Exercise 1, first way: the counter is a local moved into the listener's callback. The
/// callback is an `FnMut` owned by the loop, so it may change what it owns: no `Rc`, no `Cell`.
fn numbered_hello_owned(io_loop: &IoLoop, addr: SocketAddr) -> io::Result<SocketAddr> {
    let listener = TcpListener::from_std(testbed::server::listen(addr, 128)?);
    let local = listener.local_addr()?;
    let mut clients: u64 = 0;
    io_loop.add_handler(
        listener,
        Interest::READABLE,
        move |io_loop, listener, ready| {
            accept_all(io_loop, listener, ready, |io_loop, stream, _peer| {
                clients += 1;
                greet(io_loop, stream, format!("Hello, client {clients}\n").into());
            });
        },
    )?;
    Ok(local)
}
// ANCHOR_END: numbered_owned

// ANCHOR: numbered_shared
/// Exercise 1, second way: the counter is shared, `Rc<Cell<u64>>`. More ceremony (a clone of
/// the `Rc` to move in, `get` and `set`), and worth it only when someone else must see the
/// count too: here, the caller, after the loop has stopped.
fn numbered_hello_shared(
    io_loop: &IoLoop,
    addr: SocketAddr,
    clients: &Rc<Cell<u64>>,
) -> io::Result<SocketAddr> {
    let listener = TcpListener::from_std(testbed::server::listen(addr, 128)?);
    let local = listener.local_addr()?;
    let clients = Rc::clone(clients);
    io_loop.add_handler(
        listener,
        Interest::READABLE,
        move |io_loop, listener, ready| {
            accept_all(io_loop, listener, ready, |io_loop, stream, _peer| {
                clients.set(clients.get() + 1);
                greet(
                    io_loop,
                    stream,
                    format!("Hello, client {}\n", clients.get()).into(),
                );
            });
        },
    )?;
    Ok(local)
}

/// Both servers number their clients 1, 2, 3... (one client after another, so the numbers
/// come in order); the shared counter can still be read once the loop has stopped.
#[test]
fn hello_numbers_its_clients() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let owned = spawn_loop(move |io_loop| {
        let addr = numbered_hello_owned(io_loop, any)?;
        Ok((addr, Box::new(|| ()) as Finally<()>))
    });
    for n in 1..=20 {
        assert_eq!(read_all(owned.addr), format!("Hello, client {n}\n"));
    }
    owned.stop();

    let shared = spawn_loop(move |io_loop| {
        let clients = Rc::new(Cell::new(0));
        let addr = numbered_hello_shared(io_loop, any, &clients)?;
        Ok((addr, Box::new(move || clients.get()) as Finally<u64>))
    });
    for n in 1..=20 {
        assert_eq!(read_all(shared.addr), format!("Hello, client {n}\n"));
    }
    assert_eq!(shared.stop(), 20);
}
// ANCHOR_END: numbered_shared

// ANCHOR: reverse_lines
/// Exercise 2: answers each complete line with its bytes reversed. The bytes of a line that
/// has not ended yet wait in `partial`, whatever pieces the network cut the stream into.
#[derive(Debug, Default)]
pub struct ReverseLines {
    partial: Vec<u8>,
}

impl Protocol for ReverseLines {
    fn data_received(&mut self, data: &[u8], transport: &mut Transport) {
        let mut rest = data;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..end]);
            self.partial.reverse();
            self.partial.push(b'\n');
            transport.write(&self.partial);
            self.partial.clear();
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
    }
}

/// One [`ReverseLines`] per connection.
#[derive(Debug, Default)]
pub struct ReverseFactory;

impl Factory for ReverseFactory {
    type Protocol = ReverseLines;

    fn build_protocol(&mut self, _peer: SocketAddr) -> ReverseLines {
        ReverseLines::default()
    }
}
// ANCHOR_END: reverse_lines

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

// ANCHOR: reverse_client
/// One client: 200 lines of random letters (some empty), sent in random pieces of 1 to 64 bytes
/// (so lines are cut anywhere) while reading the answer; then a half-close, and the answer must
/// be every line reversed, in order.
async fn reverse_client(addr: SocketAddr, id: u64) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut seed = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let (mut sent, mut expected) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        let len = (xorshift(&mut seed) % 100) as usize;
        let line: Vec<u8> = (0..len)
            .map(|_| b'a' + (xorshift(&mut seed) % 26) as u8)
            .collect();
        sent.extend_from_slice(&line);
        sent.push(b'\n');
        expected.extend(line.iter().rev());
        expected.push(b'\n');
    }
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("client {id}: connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut reader, mut writer) = stream.into_split();
    let sending = async move {
        let mut at = 0;
        while at < sent.len() {
            let end = (at + 1 + (xorshift(&mut seed) % 64) as usize).min(sent.len());
            writer.write_all(&sent[at..end]).await?;
            at = end;
        }
        writer.shutdown().await
    };
    let receiving = async move {
        let mut answer = Vec::new();
        reader.read_to_end(&mut answer).await.map(|_| answer)
    };
    let both = async { tokio::join!(sending, receiving) };
    let (sent, answer) = tokio::time::timeout(Duration::from_secs(60), both)
        .await
        .map_err(|_| format!("client {id}: no answer within 60 s"))?;
    sent.map_err(|e| format!("client {id}: write: {e}"))?;
    let answer = answer.map_err(|e| format!("client {id}: read: {e}"))?;
    if answer != expected {
        return Err(format!("client {id}: wrong answer"));
    }
    Ok(())
}

/// 50 clients at once against `listen_tcp(ReverseFactory)`: every line comes back reversed.
#[test]
fn reverse_lines_whatever_the_pieces() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = spawn_loop(move |io_loop| {
        let addr = listen_tcp(io_loop, any, ReverseFactory)?;
        Ok((addr, Box::new(|| ()) as Finally<()>))
    });
    let addr = server.addr;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let failures: Vec<String> = runtime.block_on(async move {
        let clients: Vec<_> = (0..50)
            .map(|id| tokio::spawn(reverse_client(addr, id)))
            .collect();
        let mut failures = Vec::new();
        for client in clients {
            if let Err(e) = client.await.unwrap() {
                failures.push(e);
            }
        }
        failures
    });
    assert!(failures.is_empty(), "{failures:?}");
    server.stop();
}
// ANCHOR_END: reverse_client

// ANCHOR: slow_reader
/// Exercise 3: a client that sends and never reads. With the echo server's 1 MiB high-water
/// mark, the client stalls (a write makes no progress for 3 s) long before 100 MiB: the server
/// stops reading, the kernel buffers on both sides fill, and TCP stops the client.
#[test]
fn a_client_that_never_reads_is_stopped() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = spawn_loop(move |io_loop| {
        let echo = step04_callbacks::echo::EchoFactory;
        let addr = listen_tcp(io_loop, any, echo)?;
        Ok((addr, Box::new(|| ()) as Finally<()>))
    });
    let mut client = StdStream::connect(server.addr).unwrap();
    client
        .set_write_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let (chunk, goal) = (vec![b'x'; 1 << 20], 100usize << 20);
    let mut sent = 0;
    let stalled = loop {
        if sent >= goal {
            break None;
        }
        match client.write(&chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break Some(e.kind()),
        }
    };
    assert!(
        matches!(stalled, Some(ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "sent {sent} bytes, then {stalled:?}"
    );
    assert!(sent < goal, "sent all {sent} bytes without being stopped");
    drop(client);
    server.stop();
}
// ANCHOR_END: slow_reader

/// The deadline of the connections in the watch test.
const DEADLINE: Duration = Duration::from_millis(500);

// ANCHOR: forgotten_watch
/// Exercise 4: one connection to a server that never answers, with the fan-out's chain and
/// deadline timer. With `forget`, the read waits in a handler whose token goes into a throwaway
/// `Watch`. Returns how many handlers are left after the deadline has passed.
fn handlers_left_after_the_deadline(forget: bool) -> usize {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let target = Target::new(server.addr(), "/chaos/hang");
    let io_loop = IoLoop::new().unwrap();
    let watch = Watch::default();

    // The deadline, as in the fan-out: cancel whatever the connection is waiting in.
    let on_deadline = Rc::clone(&watch);
    io_loop.call_later(DEADLINE, move |io_loop| {
        if let Some(token) = on_deadline.take() {
            io_loop.remove_handler(token);
        }
    });
    // After the deadline: count the handlers, and stop (the loop would not stop by itself).
    let left = Rc::new(Cell::new(usize::MAX));
    let seen = Rc::clone(&left);
    io_loop.call_later(DEADLINE * 2, move |io_loop| {
        seen.set(io_loop.handler_count());
        io_loop.stop();
    });

    let (loop1, loop2, watch1, watch2) = (
        io_loop.clone(),
        io_loop.clone(),
        Rc::clone(&watch),
        Rc::clone(&watch),
    );
    let check = testbed::ResponseCheck::new(1 << 20);
    connect(&io_loop, target.addr, &watch)
        .add_callback(move |stream| send(&loop1, stream, target.request(), &watch1))
        .add_callback(move |stream| {
            let watch = if forget { Watch::default() } else { watch2 };
            read_response(&loop2, stream, check, |_| {}, &watch)
        })
        .add_both(|_| {});
    io_loop.run().unwrap();
    left.get()
}

/// With the watch, the deadline removes the read's handler and nothing is left: `run` could
/// return. Without it, the handler survives the deadline, waiting for an answer that never
/// comes: `run` would wait forever.
#[test]
fn a_forgotten_watch_leaves_a_handler_behind() {
    assert_eq!(handlers_left_after_the_deadline(false), 0);
    assert_eq!(handlers_left_after_the_deadline(true), 1);
}
// ANCHOR_END: forgotten_watch

// ANCHOR: gather
/// Exercise 5: a deferred that fires when every one of `deferreds` has fired, with their
/// results in the order given (errors included, as `Err` entries). Twisted's `DeferredList`.
pub fn gather<T: 'static, E: 'static>(
    deferreds: Vec<Deferred<T, E>>,
) -> Deferred<Vec<Result<T, E>>, E> {
    /// What the deferreds' callbacks share: the results so far, and who fires the whole.
    struct Gathering<T: 'static, E: 'static> {
        results: Vec<Option<Result<T, E>>>,
        left: usize,
        trigger: Option<Trigger<Vec<Result<T, E>>, E>>,
    }

    let (all, trigger) = Deferred::new();
    if deferreds.is_empty() {
        trigger.succeed(Vec::new());
        return all;
    }
    let gathering = Rc::new(RefCell::new(Gathering {
        results: deferreds.iter().map(|_| None).collect(),
        left: deferreds.len(),
        trigger: Some(trigger),
    }));
    for (i, deferred) in deferreds.into_iter().enumerate() {
        let gathering = Rc::clone(&gathering);
        deferred.add_both(move |result| {
            let done = {
                let mut g = gathering.borrow_mut();
                g.results[i] = Some(result);
                g.left -= 1;
                if g.left > 0 {
                    return;
                }
                let results = std::mem::take(&mut g.results).into_iter().flatten();
                g.trigger.take().map(|trigger| (trigger, results.collect()))
            };
            // The borrow is released: the callbacks the trigger runs may do anything.
            if let Some((trigger, results)) = done {
                trigger.succeed(results);
            }
        });
    }
    all
}
// ANCHOR_END: gather

/// `gather` keeps the order given, keeps errors as entries, and fires only after the last one
/// (and at once for an empty list).
#[test]
fn gather_waits_for_all_in_order() {
    let (a, fire_a) = Deferred::<u32, String>::new();
    let (b, fire_b) = Deferred::<u32, String>::new();
    let c = Deferred::fired(Ok(3));
    let out = Rc::new(RefCell::new(None));
    let seen = Rc::clone(&out);
    gather(vec![a, b, c]).add_both(move |all| *seen.borrow_mut() = Some(all));
    fire_b.fail("b failed".to_string());
    assert!(out.borrow().is_none(), "fired before the last one");
    fire_a.succeed(1);
    let all = out.borrow_mut().take().expect("fired after the last one");
    assert_eq!(all, Ok(vec![Ok(1), Err("b failed".to_string()), Ok(3)]));

    let empty = Rc::new(Cell::new(false));
    let seen = Rc::clone(&empty);
    gather(Vec::<Deferred<u32, String>>::new()).add_both(move |all| seen.set(all == Ok(vec![])));
    assert!(empty.get());
}

// ANCHOR: gathered_start
/// What the chain and the timer of one connection share (no results list any more).
struct Connection {
    record: RefCell<Option<ConnectionRecord>>,
    watch: Watch,
    deadline: Cell<Option<TimerId>>,
    /// Fires the connection's own final deferred, once.
    done: RefCell<Option<Trigger<ConnectionResult, Infallible>>>,
}

impl Connection {
    fn mark(&self, mark: impl FnOnce(&mut ConnectionRecord)) {
        if let Some(record) = self.record.borrow_mut().as_mut() {
            mark(record);
        }
    }

    /// Ends the connection: the first of the chain and the timer fires its final deferred.
    fn finish(&self, outcome: Result<(), FetchError>) {
        let Some(record) = self.record.borrow_mut().take() else {
            return;
        };
        let done = self.done.borrow_mut().take();
        if let Some(done) = done {
            done.succeed(record.finish(outcome));
        }
    }
}

/// Starts connection `id` and returns the deferred of its result, which always fires: with the
/// chain's outcome, or at the deadline with "timed out".
fn start(
    io_loop: &IoLoop,
    workload: &Workload,
    id: usize,
) -> Deferred<ConnectionResult, Infallible> {
    let target = &workload.targets[id];
    let (result, done) = Deferred::new();
    let connection = Rc::new(Connection {
        record: RefCell::new(Some(workload.record(id))),
        watch: Watch::default(),
        deadline: Cell::new(None),
        done: RefCell::new(Some(done)),
    });
    let on_deadline = Rc::clone(&connection);
    let timer = io_loop.call_later(workload.timeout, move |io_loop| {
        if let Some(token) = on_deadline.watch.take() {
            io_loop.remove_handler(token);
        }
        let error = on_deadline
            .record
            .borrow()
            .as_ref()
            .map(|r| r.timed_out(r.stage_reached()));
        if let Some(error) = error {
            on_deadline.finish(Err(error));
        }
    });
    connection.deadline.set(Some(timer));

    let (request, check) = (target.request(), workload.response_check());
    let (loop1, loop2, loop3) = (io_loop.clone(), io_loop.clone(), io_loop.clone());
    let (conn1, conn2, conn3) = (
        Rc::clone(&connection),
        Rc::clone(&connection),
        Rc::clone(&connection),
    );
    connect(io_loop, target.addr, &connection.watch)
        .add_callback(move |stream| {
            conn1.mark(ConnectionRecord::connected);
            send(&loop1, stream, request, &conn1.watch)
        })
        .add_callback(move |stream| {
            conn2.mark(ConnectionRecord::written);
            let counter = Rc::clone(&conn2);
            read_response(
                &loop2,
                stream,
                check,
                move |n| counter.mark(|r| r.received(n)),
                &conn2.watch,
            )
        })
        .add_callback(move |check| check.finish().map(drop).map_err(FetchError::from))
        .add_both(move |outcome| {
            if let Some(timer) = conn3.deadline.take() {
                loop3.cancel_timer(timer);
            }
            conn3.finish(outcome);
        });
    result
}
// ANCHOR_END: gathered_start

// ANCHOR: gathered_fan_out
/// The fan-out on `gather`: one deferred per connection, gathered into one, whose callback
/// keeps the list. Nobody pushes into a shared list any more.
pub fn fan_out_gathered(workload: &Workload) -> Vec<ConnectionResult> {
    let io_loop = match IoLoop::new() {
        Ok(io_loop) => io_loop,
        Err(e) => return workload.all_failed(&FetchError::Setup(format!("no event loop: {e}"))),
    };
    let each: Vec<_> = (0..workload.len())
        .map(|id| start(&io_loop, workload, id))
        .collect();
    let gathered = Rc::new(RefCell::new(None));
    let keep = Rc::clone(&gathered);
    gather(each).add_both(move |all| *keep.borrow_mut() = Some(all));
    let ran = io_loop.run();
    match (ran, gathered.take()) {
        (Ok(()), Some(Ok(all))) => all
            .into_iter()
            .map(|result| match result {
                Ok(result) => result,
                Err(never) => match never {},
            })
            .collect(),
        // The loop failed before every connection had its result: we cannot tell which did.
        _ => workload.all_failed(&FetchError::Setup("the event loop failed".into())),
    }
}
// ANCHOR_END: gathered_fan_out

/// 100 connections through the gathered fan-out: all ok, in id order, every byte.
#[test]
fn gathered_fan_out_succeeds() {
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let target = Target::new(server.addr(), "/delay/20");
    let results = fan_out_gathered(&Workload::uniform(target, 100, Duration::from_secs(10)));
    let expected = testbed::server::delay_response(Duration::from_millis(20)).len() as u64;
    assert_eq!(results.len(), 100);
    for (id, r) in results.iter().enumerate() {
        assert!(r.ok && r.id == id && r.bytes == expected, "{r:?}");
    }
}

/// The fault suite through the gathered fan-out: the hung connections' deadlines fire their
/// final deferreds, so `gather` fires too.
mod gathered_faults {
    testbed::fault_suite!(super::fan_out_gathered);
}
