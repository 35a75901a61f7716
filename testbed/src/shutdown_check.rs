//! The graceful-shutdown check: the same scenario for every step's echo server that stops on a
//! signal (`echo-server --grace-ms MS`). The server runs in a process of its own; a first
//! client comes and goes, so the server has been idle once; then, under load, [`LOAD`]
//! clients echo a message every few milliseconds, without end, while three more clients
//! make one round trip each; the server gets SIGTERM. It must stop accepting at once (a new
//! client is refused), serve the two clients that go on to their end, close the silent third
//! at the deadline, cleanly (end-of-file, not a reset), and end the loaded ones too (each echo
//! it completed intact; a reset allowed, since a cut can find a message unread, but never a
//! hang), say how many were which, and exit 0 soon after the deadline.

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The grace period the check gives the server.
pub const GRACE_MS: u64 = 500;

/// Clients echoing without end while the signal comes.
pub const LOAD: usize = 20;

/// A client under load: a message, its echo, a pause, again, until the server closes; how many
/// echoes came back whole. Every echo must be exactly the message; a connection cut
/// mid-message may end with a reset (the server closed it with the message unread), never
/// with a wrong byte or a hang.
fn loaded_client(mut stream: TcpStream, id: usize) -> Result<usize, String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut echoes = 0;
    loop {
        let message = format!("client {id}, message {echoes}\n");
        if stream.write_all(message.as_bytes()).is_err() {
            return Ok(echoes); // cut: the server closed it
        }
        let mut back = vec![0; message.len()];
        let mut got = 0;
        while got < back.len() {
            match stream.read(&mut back[got..]) {
                Ok(0) => {
                    if back[..got] != message.as_bytes()[..got] {
                        return Err(format!("client {id}: a wrong partial echo"));
                    }
                    return Ok(echoes);
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                    return Err(format!("client {id}: no echo and no close within 10 s"));
                }
                Err(_reset) => return Ok(echoes),
            }
        }
        if back != message.as_bytes() {
            return Err(format!("client {id}: echo {back:?} of {message:?}"));
        }
        echoes += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kills the server if the check stops half-way, so no process outlives it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the scenario against `server`: a command for the step's binary with its
/// `echo-server` subcommand (and any options of its own); the check adds `--addr
/// 127.0.0.1:0 --grace-ms 500`. `Err` says the first thing that went wrong.
pub fn graceful(server: Command) -> Result<(), String> {
    let (server, mut lines, addr) = start(server)?;

    // Three connections in flight, each with one round trip done (so each is accepted): two
    // will go on after the signal, one stays silent.
    let connect = || TcpStream::connect(&addr).map_err(|e| format!("connect: {e}"));
    // A client that comes and goes first, so that the server has been idle once before the
    // signal (a server that took "no connection left" for "all ended" would skip the grace).
    {
        let mut early = connect()?;
        echo(&mut early, b"early")?;
        early
            .shutdown(Shutdown::Write)
            .map_err(|e| format!("shutdown: {e}"))?;
        let mut rest = Vec::new();
        early
            .read_to_end(&mut rest)
            .map_err(|e| format!("the early client's end: {e}"))?;
    }
    std::thread::sleep(Duration::from_millis(20));
    let mut going_on = vec![connect()?, connect()?];
    let mut silent = connect()?;
    for stream in going_on.iter_mut().chain([&mut silent]) {
        echo(stream, b"before")?;
    }
    let mut loaded = Vec::new();
    for id in 0..LOAD {
        let mut stream = connect()?;
        // One round trip first, so that it is accepted before the signal.
        echo(&mut stream, b"hello")?;
        loaded.push(std::thread::spawn(move || loaded_client(stream, id)));
    }
    // Let the load run a little.
    std::thread::sleep(Duration::from_millis(50));

    let signalled = Instant::now();
    kill_term(&server)?;
    expect_line(
        &mut lines,
        &format!(
            "stopped accepting: {} connections in flight, waiting up to {GRACE_MS} ms for them",
            3 + LOAD
        ),
    )?;

    // New clients are refused: the listener is closed.
    match TcpStream::connect(&addr) {
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
        Err(e) => return Err(format!("a new client: {e}, expected refused")),
        Ok(_) => return Err("a new client was accepted after the signal".into()),
    }
    // The connections in flight are still served, to their end.
    for stream in &mut going_on {
        echo(stream, b"after the signal")?;
        stream
            .shutdown(Shutdown::Write)
            .map_err(|e| format!("shutdown: {e}"))?;
        let mut rest = Vec::new();
        stream
            .read_to_end(&mut rest)
            .map_err(|e| format!("read to the end after the signal: {e}"))?;
        if !rest.is_empty() {
            return Err(format!("{} bytes more than the echo", rest.len()));
        }
    }
    // The silent one is closed at the deadline, cleanly: end-of-file, not a reset.
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut rest = Vec::new();
    match silent.read_to_end(&mut rest) {
        Ok(0) => {}
        Ok(n) => return Err(format!("the silent client got {n} bytes")),
        Err(e) => return Err(format!("the silent client: {e}, expected end-of-file")),
    }
    let closed_after = signalled.elapsed();
    if closed_after < Duration::from_millis(GRACE_MS) {
        return Err(format!(
            "the silent client was closed {closed_after:?} after the signal, before the deadline"
        ));
    }

    // The loaded clients: every one ended, with whole echoes only. How it ended is not
    // checked: one whose message the server had not read yet when it was cut sees a reset,
    // and under load (the server slow to read) that can be every one of them. The silent
    // client, which has nothing unread, is the one that must see a clean end-of-file.
    for client in loaded {
        let echoes = client
            .join()
            .map_err(|_| "a loaded client panicked".to_string())??;
        if echoes == 0 {
            return Err("a loaded client got no echo at all".into());
        }
    }

    expect_line(
        &mut lines,
        &format!(
            "shut down: 2 connections finished within {GRACE_MS} ms, {} cut",
            1 + LOAD
        ),
    )?;
    exits_soon(server, signalled)
}

/// The server exits 0, and soon after the deadline (`signalled` + the grace + 5 s): it does not
/// wait for its clients any longer.
fn exits_soon(server: Server, signalled: Instant) -> Result<(), String> {
    let status = crate::faults::within(Duration::from_secs(10), "the server's exit", move || {
        let mut server = server;
        server.0.wait()
    })
    .map_err(|e| format!("wait for the server: {e}"))?;
    if !status.success() {
        return Err(format!("the server exited with {status}"));
    }
    let exited_after = signalled.elapsed();
    if exited_after > Duration::from_millis(GRACE_MS) + Duration::from_secs(5) {
        return Err(format!(
            "the server exited {exited_after:?} after the signal"
        ));
    }
    Ok(())
}

/// Starts `server` with `--addr 127.0.0.1:0 --grace-ms 500`; hands back the process, its
/// output's lines (through a thread, so that a server that says nothing fails the check after
/// a while instead of hanging it) and the address it announced.
fn start(mut server: Command) -> Result<(Server, Receiver<io::Result<String>>, String), String> {
    let child = server
        .args(["--addr", "127.0.0.1:0", "--grace-ms", &GRACE_MS.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let mut server = Server(child);
    let stdout = server.0.stdout.take().expect("piped");
    let (tx, mut lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let first = next_line(&mut lines)?;
    let addr = first
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected first line: {first}"))?
        .to_string();
    Ok((server, lines, addr))
}

/// The descriptors [`out_of_descriptors`] lets the server have (soft and hard limit).
pub const SCARCE_DESCRIPTORS: u32 = 64;

/// The signal when the server has no descriptor left: `server` (as for [`graceful`]) runs
/// under `prlimit --nofile=64:64`; clients connect, each making one round trip, until one is
/// no longer served (the server cannot accept it: out of descriptors), and stay; then SIGTERM.
/// The server must still stop: say it stopped accepting, cut the clients at the deadline, and
/// exit 0 soon after it. (A server that wakes its accept loop by connecting to itself needs a
/// descriptor for that, and has none.) `Err` says the first thing that went wrong.
pub fn out_of_descriptors(server: Command) -> Result<(), String> {
    let mut limited = Command::new("prlimit");
    limited
        .arg(format!(
            "--nofile={SCARCE_DESCRIPTORS}:{SCARCE_DESCRIPTORS}"
        ))
        .arg("--")
        .arg(server.get_program())
        .args(server.get_args());
    let (server, mut lines, addr) = start(limited)?;
    let mut clients = Vec::new();
    let full = loop {
        if clients.len() > 4 * SCARCE_DESCRIPTORS as usize {
            return Err(format!(
                "{} clients served under a limit of {SCARCE_DESCRIPTORS} descriptors",
                clients.len()
            ));
        }
        // The handshake completes in the listener's backlog whether or not the server can
        // accept; the round trip tells.
        let mut client = TcpStream::connect(&addr).map_err(|e| format!("connect: {e}"))?;
        client
            .set_read_timeout(Some(Duration::from_millis(300)))
            .map_err(|e| e.to_string())?;
        let served = echo(&mut client, b"hello").is_ok();
        clients.push(client);
        if !served {
            break clients.len();
        }
    };

    let signalled = Instant::now();
    kill_term(&server)?;
    let stopped = next_line(&mut lines)?;
    if !stopped.starts_with("stopped accepting: ") {
        return Err(format!(
            "with {full} clients connected, the server said {stopped:?} after the signal, \
             expected \"stopped accepting: ...\""
        ));
    }
    let ended = next_line(&mut lines)?;
    if !ended.starts_with("shut down: ") {
        return Err(format!(
            "the server said {ended:?}, expected \"shut down: ...\""
        ));
    }
    exits_soon(server, signalled)?;
    drop(clients);
    Ok(())
}

/// Sends SIGTERM to the server.
fn kill_term(server: &Server) -> Result<(), String> {
    let kill = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .map_err(|e| format!("cannot run kill: {e}"))?;
    if !kill.success() {
        return Err(format!("kill -TERM: {kill}"));
    }
    Ok(())
}

/// One echo round trip on `stream`.
fn echo(stream: &mut TcpStream, message: &[u8]) -> Result<(), String> {
    stream
        .write_all(message)
        .map_err(|e| format!("write: {e}"))?;
    let mut back = vec![0; message.len()];
    stream
        .read_exact(&mut back)
        .map_err(|e| format!("read the echo: {e}"))?;
    if back != message {
        return Err(format!("echo {back:?} of {message:?}"));
    }
    Ok(())
}

/// The server's next line, within ten seconds.
fn next_line(lines: &mut Receiver<io::Result<String>>) -> Result<String, String> {
    match lines.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(line)) => Ok(line),
        Ok(Err(e)) => Err(format!("read the server's output: {e}")),
        Err(RecvTimeoutError::Timeout) => Err("the server said nothing for 10 s".into()),
        Err(RecvTimeoutError::Disconnected) => Err("the server's output ended early".into()),
    }
}

fn expect_line(lines: &mut Receiver<io::Result<String>>, expected: &str) -> Result<(), String> {
    let line = next_line(lines)?;
    if line != expected {
        return Err(format!("the server said {line:?}, expected {expected:?}"));
    }
    Ok(())
}
