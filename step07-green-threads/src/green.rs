//! The green threads' machinery: the hub that schedules them on step 5's reactor, the switch
//! between stacks, and the blocking-looking calls built on it (sockets, `Event`, `Pool`,
//! signals), apart
//! from the program that uses them (fetch, fan-out, echo server, at the top of the crate). The
//! crate re-exports each module at its top (`step07_green_threads::hub`, ...).

pub mod hub;
pub mod net;
pub mod signal;
pub mod switch;
pub mod sync;
