//! Running the delay server in a child process: the same executable, re-run with a hidden
//! subcommand.
//!
//! A step binary measures its own CPU time and peak memory (`getrusage(RUSAGE_SELF)`). If the
//! server ran on a thread of the same process, its work would be counted as the client's. So
//! the binary starts a copy of itself as the server: [`ChildServer::spawn_self`] re-runs the
//! current executable with [`SERVER_SUBCOMMAND`], and [`serve_if_child`], called first thing
//! in `main`, notices the subcommand and becomes the server instead of the client.
//!
//! The child must never outlive its parent, even when the parent is killed with SIGKILL and
//! runs no destructor. The parent holds the write end of a pipe that is the child's standard
//! input; the kernel closes it when the parent dies, however it dies, and the child exits
//! when it reads end-of-file there. Dropping the [`ChildServer`] kills the child right away.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use clap::Parser;

use crate::server::{self, ServerConfig};

/// The hidden first argument that turns a step binary into the embedded delay server.
pub const SERVER_SUBCOMMAND: &str = "__testbed-server";

/// How long the parent waits for the child's `listening on` line.
const STARTUP_DEADLINE: Duration = Duration::from_secs(10);

/// The options of the delay server, shared by `testbed serve` and the hidden subcommand.
#[derive(Debug, Clone, Parser)]
pub struct ServeArgs {
    /// Where to listen (port 0: any free port).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// The delay of `GET /`, in milliseconds (`GET /delay/{ms}` chooses its own).
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub delay_ms: u64,
}

impl ServeArgs {
    /// The server configuration these options describe.
    pub fn config(&self) -> ServerConfig {
        ServerConfig {
            addr: self.addr,
            default_delay: Duration::from_millis(self.delay_ms),
            ..ServerConfig::default()
        }
    }
}

/// Prints `listening on HOST:PORT` on stdout and flushes it: the first line every server in the
/// workspace prints, which [`ChildServer`] (and a reader's scripts) wait for.
pub fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {addr}")?;
    stdout.flush()
}

/// Binds, prints `listening on HOST:PORT` as the first line on stdout, and serves until the
/// process ends. The body of `testbed serve` and of the hidden subcommand.
pub fn bind_announce_and_serve(args: &ServeArgs) -> io::Result<()> {
    let config = args.config();
    let listener = server::bind(&config)?;
    announce(listener.local_addr()?)?;
    server::serve_forever(listener, config)
}

/// If this process was started as the embedded server (first argument
/// [`SERVER_SUBCOMMAND`]), serves and never returns. Otherwise returns at once.
///
/// Every step binary calls this first in `main`, before parsing its own options: each binary is
/// also the embedded delay server, when re-run as one (so that the client's CPU time and memory
/// in the report are its own).
pub fn serve_if_child() {
    let mut args = std::env::args_os();
    let program = args.next().unwrap_or_default();
    if args.next().as_deref() != Some(OsStr::new(SERVER_SUBCOMMAND)) {
        return;
    }
    let args = match ServeArgs::try_parse_from(std::iter::once(program).chain(args)) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    // A server cannot know how many clients will come: take all the descriptors we may.
    if let Err(e) = crate::limits::raise_to_hard_limit() {
        eprintln!("testbed: warning: {e}");
    }
    exit_with_parent();
    if let Err(e) = bind_announce_and_serve(&args) {
        eprintln!("testbed: embedded delay server failed: {e}");
        std::process::exit(1);
    }
    std::process::exit(0);
}

/// Makes this process exit as soon as its parent is gone: a thread waits for end-of-file on
/// stdin, which the parent holds open for as long as it lives. For servers started by
/// [`ChildServer`].
pub fn exit_with_parent() {
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        let mut stdin = io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        std::process::exit(0);
    });
}

/// A delay server running in a child process. Dropping it kills the child.
#[derive(Debug)]
pub struct ChildServer {
    /// The child process; its stdin is the pipe whose closing tells it to exit.
    child: Child,
    /// Where the child said it listens.
    addr: SocketAddr,
}

impl ChildServer {
    /// Re-runs the current executable as the server. The executable's `main` must call
    /// [`serve_if_child`] first.
    pub fn spawn_self(args: &ServeArgs) -> io::Result<ChildServer> {
        ChildServer::spawn(&std::env::current_exe()?, args)
    }

    /// Runs `program` (a binary whose `main` calls [`serve_if_child`], such as the `testbed`
    /// binary) as the server, and waits for the address it reports.
    pub fn spawn(program: &Path, args: &ServeArgs) -> io::Result<ChildServer> {
        let mut command = Command::new(program);
        command
            .arg(SERVER_SUBCOMMAND)
            .arg("--addr")
            .arg(args.addr.to_string())
            .arg("--delay-ms")
            .arg(args.delay_ms.to_string());
        ChildServer::start(command)
    }

    /// Starts any server `command` that prints `listening on HOST:PORT` as its first stdout
    /// line and exits when its stdin closes (compare's echo servers, for instance), and waits
    /// for that line.
    pub fn start(mut command: Command) -> io::Result<ChildServer> {
        let program = command.get_program().to_string_lossy().into_owned();
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {program}: {e}")))?;
        match read_listening_line(&mut child) {
            Ok(addr) => Ok(ChildServer { child, addr }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }

    /// The address the child listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the child's first stdout line, `listening on HOST:PORT`, within the startup deadline.
fn read_listening_line(child: &mut Child) -> io::Result<SocketAddr> {
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("the child's stdout is not piped"))?;
    let (tx, rx) = mpsc::channel();
    // A thread, so that a child that never speaks cannot hang us: we wait on the channel with
    // a deadline instead.
    std::thread::spawn(move || {
        let mut line = String::new();
        let result = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(result);
    });
    let line = match rx.recv_timeout(STARTUP_DEADLINE) {
        Ok(result) => result?,
        Err(_) => {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the embedded delay server did not report its address within {STARTUP_DEADLINE:?}"
                ),
            ));
        }
    };
    parse_listening_line(&line).ok_or_else(|| {
        io::Error::other(if line.is_empty() {
            "the embedded delay server exited before reporting its address (see its error above)"
                .to_string()
        } else {
            format!("the embedded delay server said {line:?}, not \"listening on HOST:PORT\"")
        })
    })
}

/// Parses `listening on HOST:PORT` (the contract of every server in the workspace).
pub fn parse_listening_line(line: &str) -> Option<SocketAddr> {
    line.trim_end().strip_prefix("listening on ")?.parse().ok()
}
