//! A work-queue server, and what it does when work comes faster than it can finish it.
//!
//! Each client sends a request and closes its side; the server reads the request in full,
//! queues it as a job, and a few worker tasks take the jobs in turn, each taking `work` (a
//! sleep: a database call, say) before it answers `done N` (the request's length). Accepting
//! and reading are cheap; the workers are the bottleneck, as in most real servers.
//!
//! What happens when the clients come faster than the workers finish is the server's
//! [`Policy`]: hold everything (`Unbounded`: memory grows with the flood), stop accepting
//! when `capacity` jobs are held (`Wait`: the clients wait in the kernel's backlog, and the
//! server's memory stays flat), or answer `busy` at once to those over `capacity` (`Shed`).

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use futures::future::{Either, select};

use step05_futures::block_on;
use step05_futures::net::{TcpListener, TcpStream};
use step05_futures::time::sleep;

use crate::group::TaskGroup;
use crate::sync::{OwnedPermit, Queue, Semaphore};
use crate::timeout::timeout;

/// The largest request the server reads; a longer one is dropped unanswered.
pub const MAX_REQUEST: usize = 1 << 20;

/// What the server does when it already holds `capacity` jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Policy {
    /// No limit: every client is accepted, read and queued at once.
    Unbounded,
    /// Stop accepting until a job is done: new clients wait in the kernel's backlog.
    Wait,
    /// Accept, answer `busy`, close: new clients learn at once that they must go elsewhere.
    Shed,
}

/// How the work server runs.
#[derive(Debug, Clone, Copy)]
pub struct WorkOptions {
    /// What to do when full.
    pub policy: Policy,
    /// The most jobs held at once (being read, queued, or being worked on), for `Wait` and
    /// `Shed`.
    pub capacity: usize,
    /// Worker tasks.
    pub workers: usize,
    /// How long one job takes a worker.
    pub work: Duration,
}

/// What the work server did, told when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkStats {
    /// Jobs answered `done`.
    pub served: u64,
    /// Clients answered `busy`.
    pub busy: u64,
    /// The most jobs held at once.
    pub most_held: usize,
    /// The most jobs waiting in the queue at once.
    pub most_queued: usize,
}

/// The server's counters, shared by its tasks.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    served: Cell<u64>,
    busy: Cell<u64>,
    held: Cell<usize>,
    most_held: Cell<usize>,
}

/// One job held by the server, from its accept to its answer: counted while it lives.
struct Held(Rc<Counts>);

impl Held {
    fn new(counts: &Rc<Counts>) -> Held {
        counts.held.set(counts.held.get() + 1);
        counts
            .most_held
            .set(counts.most_held.get().max(counts.held.get()));
        Held(Rc::clone(counts))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.held.set(self.0.held.get() - 1);
    }
}

// ANCHOR: job
/// A request read in full, the connection to answer on, and the job's place in the server:
/// dropping the job (answered, or cancelled) gives its room back.
struct Job {
    stream: TcpStream,
    request: Vec<u8>,
    _room: Option<OwnedPermit>,
    _held: Held,
}
// ANCHOR_END: job

// ANCHOR: serve_work
/// Serves until `stop` is ready, with `options.workers` workers and `options.policy` for
/// the clients that come when `options.capacity` jobs are held; then drops every task and
/// says what it did.
async fn serve_work(
    mut listener: TcpListener,
    options: WorkOptions,
    stop: impl Future<Output = ()>,
) -> WorkStats {
    let queue = Rc::new(Queue::<Job>::new());
    let room = Rc::new(Semaphore::new(options.capacity));
    let counts = Rc::new(Counts::default());
    // Every task of the server belongs to this group; dropping it at the end cancels them.
    let tasks = TaskGroup::<Infallible>::new();
    for _ in 0..options.workers {
        tasks.spawn(worker(Rc::clone(&queue), Rc::clone(&counts), options.work));
    }
    let mut stop = pin!(stop);
    loop {
        // Under `Wait`, a place first, *then* an accept: while the server is full it does not
        // accept at all, and the clients wait in the kernel's backlog, costing us nothing.
        let waited_for = match options.policy {
            Policy::Wait => {
                let place = pin!(Rc::clone(&room).acquire_owned());
                match select(stop.as_mut(), place).await {
                    Either::Left(_) => break,
                    Either::Right((place, _)) => Some(place),
                }
            }
            Policy::Unbounded | Policy::Shed => None,
        };
        let stream = match select(stop.as_mut(), pin!(listener.accept())).await {
            Either::Left(_) => break,
            Either::Right((Ok((stream, _peer)), _)) => stream,
            // Out of descriptors, most likely: the client waits in the backlog; try again.
            Either::Right((Err(_), _)) => {
                if let Either::Left(_) = select(stop.as_mut(), pin!(sleep(PAUSE))).await {
                    break;
                }
                continue;
            }
        };
        let place = match options.policy {
            Policy::Unbounded => None,
            Policy::Wait => waited_for,
            // Under `Shed`, a place now or never: a full server says so at once.
            Policy::Shed => match room.try_acquire_owned() {
                Some(place) => Some(place),
                None => {
                    tasks.spawn(turn_away(stream, Rc::clone(&counts)));
                    continue;
                }
            },
        };
        let held = Held::new(&counts);
        tasks.spawn(read_job(stream, place, held, Rc::clone(&queue)));
    }
    WorkStats {
        served: counts.served.get(),
        busy: counts.busy.get(),
        most_held: counts.most_held.get(),
        most_queued: queue.most(),
    }
}
// ANCHOR_END: serve_work

/// How long to wait after a failed accept.
const PAUSE: Duration = Duration::from_millis(10);

/// How long a client may take to send its request (or, refused, the rest of it).
pub const SLOW_CLIENT: Duration = Duration::from_secs(10);

// ANCHOR: tasks
/// Reads a request to its end (the client closes its side), and queues it as a job.
async fn read_job(
    mut stream: TcpStream,
    room: Option<OwnedPermit>,
    held: Held,
    queue: Rc<Queue<Job>>,
) -> Result<(), Infallible> {
    let read = async {
        let mut request = Vec::new();
        let mut chunk = [0u8; 8 * 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) => return Some(request),
                Ok(n) if request.len() + n <= MAX_REQUEST => {
                    request.extend_from_slice(&chunk[..n]);
                }
                Ok(_) | Err(_) => return None,
            }
        }
    };
    // A client that never finishes its request must not hold its room forever: too slow, too
    // long, or broken, it is dropped, and its room goes back.
    let Ok(Some(request)) = timeout(SLOW_CLIENT, read).await else {
        return Ok(());
    };
    queue.push(Job {
        stream,
        request,
        _room: room,
        _held: held,
    });
    Ok(())
}

/// Takes jobs from the queue, one at a time, forever.
async fn worker(
    queue: Rc<Queue<Job>>,
    counts: Rc<Counts>,
    work: Duration,
) -> Result<(), Infallible> {
    loop {
        let mut job = queue.pop().await;
        sleep(work).await;
        let answer = format!("done {}\n", job.request.len());
        if job.stream.write_all(answer.as_bytes()).await.is_ok() {
            counts.served.set(counts.served.get() + 1);
        }
        // The job ends here: its connection closes, its room goes back.
    }
}

/// Tells a client the server is full: `busy`, then reads what it sent (closing a socket with
/// unread bytes would reset the connection, and the client might lose the answer).
async fn turn_away(mut stream: TcpStream, counts: Rc<Counts>) -> Result<(), Infallible> {
    if stream.write_all(b"busy\n").await.is_err() {
        return Ok(());
    }
    counts.busy.set(counts.busy.get() + 1);
    let _ = stream.shutdown_write();
    let drain = async {
        let mut sink = [0u8; 1024];
        let mut read = 0;
        while let Ok(n @ 1..) = stream.read(&mut sink).await {
            read += n;
            if read > MAX_REQUEST {
                break;
            }
        }
    };
    // The same deadline: a refused client that never stops sending is not kept either.
    let _ = timeout(SLOW_CLIENT, drain).await;
    Ok(())
}
// ANCHOR_END: tasks

/// The work server on our runtime, until SIGINT or SIGTERM: binds `addr`, tells `announce`
/// where, serves, and on the signal stops at once (every task is dropped) and says what it did.
pub fn work_server_until_signal(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
    options: WorkOptions,
) -> io::Result<WorkStats> {
    block_on(async move {
        let stop = crate::signal::interrupted()?;
        let listener = TcpListener::bind(addr)?;
        announce(listener.local_addr()?)?;
        Ok(serve_work(listener, options, stop).await)
    })
}
