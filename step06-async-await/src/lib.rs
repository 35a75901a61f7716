//! # Step 6: async/await
//!
//! Step 5 wrote one connection as a state machine by hand: an `enum` of the places where it can
//! wait, and a `poll` that moves between them. An `async fn` is that, written by the compiler:
//! each `.await` becomes a state, the locals that live across it become fields, and the
//! function's body reads top to bottom like step 1's blocking code. The runtime underneath is
//! step 5's, unchanged (this crate only depends on it).
//!
//! On it: a [`timeout`](timeout::timeout), a [`Semaphore`](sync::Semaphore), an
//! [`Event`](sync::Event), a [`Mutex`](sync::Mutex), a pool for blocking work
//! ([`spawn_blocking`](blocking::spawn_blocking)), a [`TaskGroup`](group::TaskGroup), and
//! [`Signals`](signal::Signals), a [`Queue`](sync::Queue); the connection, the fan-out and an echo server (which shuts
//! down gracefully on a signal) written with `async fn` ([`fetch`], [`fan_out`](mod@fan_out),
//! [`echo`]); a work-queue server that chooses what to do when it is full ([`work`]); and the
//! same on tokio ([`on_tokio`], [`work_on_tokio`]), to read side by side.
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`fetch`] | one connection: `exchange`, and `fetch` with its deadline |
//! | [`fan_out`](mod@fan_out) | a task per connection, a semaphore, a task that blocks |
//! | [`echo`] | the echo server, a task per connection; shutting down gracefully on a signal |
//! | [`group`] | `TaskGroup`: children that end with their group; the first error cancels the rest |
//! | [`signal`] | SIGINT and SIGTERM as a future, through a socket the reactor watches |
//! | [`work`] | a work-queue server: unbounded, waiting, or shedding load when full |
//! | [`on_tokio`] | the same three on tokio, item for item |
//! | [`work_on_tokio`] | the work-queue server on tokio |
//! | [`timeout`] | `timeout(duration, future)`: cancellation by drop |
//! | [`sync`] | `Semaphore`, `Event`, `Mutex`, `Queue` for one thread's tasks |
//! | [`blocking`] | `spawn_blocking`: a small thread pool, results through wakers |
//! | [`yield_now`](mod@yield_now) | letting the other tasks run |
#![forbid(unsafe_code)]

pub mod blocking;
pub mod echo;
pub mod fan_out;
pub mod fetch;
pub mod group;
pub mod on_tokio;
pub mod signal;
pub mod sync;
pub mod timeout;
pub mod work;
pub mod work_on_tokio;
pub mod yield_now;

pub use fan_out::{Blocking, FanOut, Options, fan_out, variants};
