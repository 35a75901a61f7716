//! The work-queue server of `work.rs` on tokio (one thread), item for item, with tokio's
//! pieces: an `Arc<Semaphore>`'s owned permits for the room, an unbounded `mpsc` channel for
//! the queue (its one receiver shared by the workers behind tokio's `Mutex`), a `JoinSet` for
//! the tasks, and atomics for the counts (tokio's `spawn` asks for `Send`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};

use crate::work::{MAX_REQUEST, Policy, SLOW_CLIENT, WorkOptions, WorkStats};

/// The server's counters, shared by its tasks.
#[derive(Debug, Default)]
struct Counts {
    served: AtomicU64,
    busy: AtomicU64,
    held: AtomicUsize,
    most_held: AtomicUsize,
    queued: AtomicUsize,
    most_queued: AtomicUsize,
}

/// One job held by the server, from its accept to its answer: counted while it lives.
struct Held(Arc<Counts>);

impl Held {
    fn new(counts: &Arc<Counts>) -> Held {
        let held = counts.held.fetch_add(1, Relaxed) + 1;
        counts.most_held.fetch_max(held, Relaxed);
        Held(Arc::clone(counts))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.held.fetch_sub(1, Relaxed);
    }
}

/// A request read in full, the connection to answer on, and the job's place in the server.
struct Job {
    stream: TcpStream,
    request: Vec<u8>,
    _room: Option<OwnedSemaphorePermit>,
    _held: Held,
}

// ANCHOR: serve_work
/// Serves until `stop` is ready; then drops every task and says what it did.
async fn serve_work(
    listener: TcpListener,
    options: WorkOptions,
    stop: impl Future<Output = ()>,
) -> WorkStats {
    let (queue, jobs) = unbounded_channel::<Job>();
    let jobs = Arc::new(Mutex::new(jobs));
    let room = Arc::new(Semaphore::new(options.capacity));
    let counts = Arc::new(Counts::default());
    // Dropping a `JoinSet` aborts its tasks.
    let mut tasks = JoinSet::new();
    for _ in 0..options.workers {
        tasks.spawn(worker(Arc::clone(&jobs), Arc::clone(&counts), options.work));
    }
    tokio::pin!(stop);
    loop {
        let waited_for = match options.policy {
            Policy::Wait => tokio::select! {
                biased;
                () = &mut stop => break,
                place = Arc::clone(&room).acquire_owned() => Some(place.expect("never closed")),
            },
            Policy::Unbounded | Policy::Shed => None,
        };
        let stream = tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(_) => {
                    sleep(PAUSE).await;
                    continue;
                }
            },
        };
        let place = match options.policy {
            Policy::Unbounded => None,
            Policy::Wait => waited_for,
            Policy::Shed => match Arc::clone(&room).try_acquire_owned() {
                Ok(place) => Some(place),
                Err(_) => {
                    tasks.spawn(turn_away(stream, Arc::clone(&counts)));
                    continue;
                }
            },
        };
        let held = Held::new(&counts);
        tasks.spawn(read_job(
            stream,
            place,
            held,
            queue.clone(),
            Arc::clone(&counts),
        ));
        // Finished tasks leave the set as they go.
        while tasks.try_join_next().is_some() {}
    }
    WorkStats {
        served: counts.served.load(Relaxed),
        busy: counts.busy.load(Relaxed),
        most_held: counts.most_held.load(Relaxed),
        most_queued: counts.most_queued.load(Relaxed),
    }
}
// ANCHOR_END: serve_work

/// How long to wait after a failed accept.
const PAUSE: Duration = Duration::from_millis(10);

/// Reads a request to its end, and queues it as a job.
async fn read_job(
    mut stream: TcpStream,
    room: Option<OwnedSemaphorePermit>,
    held: Held,
    queue: UnboundedSender<Job>,
    counts: Arc<Counts>,
) {
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
    let Ok(Some(request)) = timeout(SLOW_CLIENT, read).await else {
        return;
    };
    let queued = counts.queued.fetch_add(1, Relaxed) + 1;
    counts.most_queued.fetch_max(queued, Relaxed);
    let _ = queue.send(Job {
        stream,
        request,
        _room: room,
        _held: held,
    });
}

/// Takes jobs from the queue, one at a time, until the queue is gone.
async fn worker(jobs: Arc<Mutex<UnboundedReceiver<Job>>>, counts: Arc<Counts>, work: Duration) {
    loop {
        let Some(mut job) = jobs.lock().await.recv().await else {
            return;
        };
        counts.queued.fetch_sub(1, Relaxed);
        sleep(work).await;
        let answer = format!("done {}\n", job.request.len());
        if job.stream.write_all(answer.as_bytes()).await.is_ok() {
            counts.served.fetch_add(1, Relaxed);
        }
    }
}

/// Tells a client the server is full: `busy`, then reads what it sent.
async fn turn_away(mut stream: TcpStream, counts: Arc<Counts>) {
    if stream.write_all(b"busy\n").await.is_err() {
        return;
    }
    counts.busy.fetch_add(1, Relaxed);
    let _ = stream.shutdown().await;
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
    let _ = timeout(SLOW_CLIENT, drain).await;
}

/// The work server on tokio, until SIGINT or SIGTERM: see
/// [`crate::work::work_server_until_signal`].
pub fn work_server_until_signal(
    addr: SocketAddr,
    announce: impl FnOnce(SocketAddr) -> io::Result<()>,
    options: WorkOptions,
) -> io::Result<WorkStats> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let stop = crate::on_tokio::interrupted()?;
        let listener = TcpListener::from_std(testbed::server::listen(addr, 8192)?)?;
        announce(listener.local_addr()?)?;
        Ok(serve_work(listener, options, stop).await)
    })
}
