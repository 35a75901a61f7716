//! # What a dropped future loses
//!
//! In Rust, cancelling a future is dropping it, and a future can be dropped at any `.await`
//! where it is suspended: by a `timeout`, by the branch of a `select!` that lost, by a task
//! being aborted. Whatever the future was holding at that `.await` is dropped with it. A method
//! is *cancel safe* if dropping its future at an `.await` loses nothing: calling it again later
//! gets everything the dropped call would have got.
//!
//! Each hazard here is a pair, on our runtime (steps 5 and 6) and on tokio: the version that
//! loses data, and the fixed one beside it, with the loss measured against a local peer.
//!
//! | module | what it holds |
//! |---|---|
//! | [`peer`] | the other end: a server that sends lines in halves, one that reads late |
//! | [`lines`] | a `select!` loop over a line reader: the one that loses half lines, the one that does not |
//! | [`write`] | `write_all` cut by a timeout: bytes gone, and nobody knows how many |
//! | [`busy`] | a loop with no `.await`: a timeout cannot cut it |
//! | [`queue`] | a lock's waiter cut by a timeout: it loses its place, and nothing else |
//! | [`tasks`] | dropping a `JoinHandle` detaches its task; `abort` cancels it |
//!
//! ```text
//! cargo run -p cancellation -- lines
//! cargo run -p cancellation -- write-all
//! ```

pub mod busy;
pub mod lines;
pub mod peer;
pub mod queue;
pub mod tasks;
pub mod write;

/// A tokio runtime on this thread, with its timers and I/O: where the tokio side of each
/// hazard runs.
pub fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime (it needs an epoll instance and a few descriptors)")
}
