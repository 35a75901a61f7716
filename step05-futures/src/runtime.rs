//! The runtime: the machinery every future of this step runs on, apart from the program that
//! uses it (the fetch, the joins, the fan-out and the echo server, at the top of the crate).
//! The crate re-exports each module at its top (`step05_futures::reactor`, ...), the paths
//! steps 6 and 7 use.

pub mod dump;
pub mod executor;
pub mod net;
pub mod raw_waker;
pub mod reactor;
pub mod run_queue;
pub mod time;
pub mod timers;
pub mod trace;
