//! # compare: every step side by side
//!
//! `cargo run --release -p compare` runs every step's fan-out, each variant in its own process,
//! against one shared delay server, with the same number of connections and the same delay,
//! plus step 6's async code on tokio as the production reference, and prints what each cost: wall time
//! (against the delay, the physical limit for a concurrent run), CPU time, peak memory and
//! memory per connection. `compare echo` loads every echo server the same way.
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`steps`] | the table of steps and variants (add a step's rows here) |
//! | [`floor`] | the floor: a client with nothing but the system calls a connection needs |
//! | [`runner`] | running one variant in a child process, repeats, the median |
//! | [`syscalls`] | counting a run's system calls with `strace -f -c` |
//! | [`table`] | the comparison as text, Markdown and JSON |
//! | [`chart`] | the comparison as an SVG chart |
//! | [`echo`] | echo mode: the load, the checks, the latencies |
#![forbid(unsafe_code)]

pub mod chart;
pub mod echo;
pub mod floor;
pub mod runner;
pub mod steps;
pub mod syscalls;
pub mod table;
