//! What `select`, `poll` and `epoll` have in common: a way to sleep until at least one of many
//! descriptors is ready.
//!
//! The three differ in one important way, and the [`Waiter`] trait shows it. `select` and
//! `poll` keep no memory between calls: every [`Waiter::wait`] hands the kernel the whole list
//! of descriptors again, and the kernel checks every one of them, so each call costs time in
//! proportion to how many are watched. `epoll` keeps the list inside the kernel: the program
//! tells it about changes ([`Waiter::added`], [`Waiter::changed`], [`Waiter::removed`]) and each
//! wait costs time in proportion to how many are *ready*.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, RawFd};
use std::time::Duration;

use nix::poll::PollTimeout;

use step02_nonblocking::connection::{Connection, Wants};

// ANCHOR: watched
/// Something a waiter can watch: a descriptor, and the direction it is waiting for.
pub trait Watched: AsFd {
    /// Whether it waits to write or to read.
    fn wants(&self) -> Wants;
}

impl Watched for Connection {
    fn wants(&self) -> Wants {
        Connection::wants(self)
    }
}
// ANCHOR_END: watched

// ANCHOR: waiter
/// A readiness API. All waiting is level-triggered: a descriptor is reported as long as it is
/// ready, not only when it becomes ready.
pub trait Waiter {
    /// The name of the system call, for reports and errors.
    fn name(&self) -> &'static str;

    /// `watched` has just been added to the watched set. (`epoll`: tell the kernel.)
    fn added<W: Watched>(&mut self, _watched: &W) -> io::Result<()> {
        Ok(())
    }

    /// What `watched` waits for has changed. (`epoll`: tell the kernel.)
    fn changed<W: Watched>(&mut self, _watched: &W) -> io::Result<()> {
        Ok(())
    }

    /// `watched` is about to leave the watched set. (`epoll`: tell the kernel.)
    fn removed<W: Watched>(&mut self, _watched: &W) -> io::Result<()> {
        Ok(())
    }

    /// Sleeps until at least one descriptor of `watched` (keyed by descriptor number) is ready
    /// for what it wants, or `timeout` passes (`None`: no limit), and appends the ready ones'
    /// numbers to `ready`. A wait cut short by a signal (`EINTR`) returns with nothing ready;
    /// the caller simply waits again.
    fn wait<W: Watched>(
        &mut self,
        watched: &BTreeMap<RawFd, W>,
        timeout: Option<Duration>,
        ready: &mut Vec<RawFd>,
    ) -> io::Result<()>;
}
// ANCHOR_END: waiter

/// A timeout for `poll` and `epoll_wait`, in whole milliseconds rounded *up*: rounding down would wake us a little before
/// a deadline, to find nothing to do and wait again for 0 ms, over and over.
pub fn timeout_ms(timeout: Duration) -> PollTimeout {
    let ms = timeout.as_nanos().div_ceil(1_000_000);
    u32::try_from(ms)
        .ok()
        .and_then(|ms| PollTimeout::try_from(ms).ok())
        .unwrap_or(PollTimeout::MAX)
}
