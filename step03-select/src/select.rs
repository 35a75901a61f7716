//! `select(2)`: the original. Two bit sets, one bit per descriptor number, rebuilt before every
//! call, and a hard limit: a descriptor numbered `FD_SETSIZE` (1024) or more does not fit.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::select::{FD_SETSIZE, FdSet, select};
use nix::sys::time::{TimeVal, TimeValLike};
use step02_nonblocking::connection::Wants;

use crate::waiter::{Waiter, Watched};

/// Descriptors a run needs beyond its sockets (the pipes to the embedded server, a margin).
const SPARE: usize = 8;

/// The `select` waiter. It has no state: everything is passed again on every call.
#[derive(Debug, Default)]
pub struct Select;

/// A run too large for `select`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyForSelect {
    /// Connections asked for.
    pub connections: usize,
    /// Descriptors the process already had open.
    pub already_open: usize,
}

impl fmt::Display for TooManyForSelect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "select() can only watch descriptors numbered below FD_SETSIZE ({FD_SETSIZE}), and {} connections \
             (with the {} descriptors this process already has open) would need numbers up to about {}. \
             Use --variant poll or --variant epoll, which have no such limit",
            self.connections,
            self.already_open,
            self.connections + self.already_open + SPARE - 1
        )
    }
}

impl std::error::Error for TooManyForSelect {}

/// How many descriptors this process has open now (Linux: `/proc/self/fd`; elsewhere
/// `/dev/fd`). The directory listing itself uses one, which is not counted.
pub fn open_descriptors() -> io::Result<usize> {
    let dir = if cfg!(target_os = "linux") {
        "/proc/self/fd"
    } else {
        "/dev/fd"
    };
    Ok(std::fs::read_dir(dir)?.count().saturating_sub(1))
}

// ANCHOR: check_capacity
/// Refuses, before a single socket is opened, a run whose descriptors would not all fit below
/// `FD_SETSIZE`. The kernel gives each new socket the lowest free number, so `connections` new
/// sockets end below `already open + connections` (plus a small spare for the server's pipes).
pub fn check_capacity(connections: usize) -> Result<(), TooManyForSelect> {
    let already_open = open_descriptors().unwrap_or(3);
    if already_open + connections + SPARE > FD_SETSIZE {
        return Err(TooManyForSelect {
            connections,
            already_open,
        });
    }
    Ok(())
}
// ANCHOR_END: check_capacity

impl Waiter for Select {
    fn name(&self) -> &'static str {
        "select"
    }

    /// A descriptor past `FD_SETSIZE` cannot go into an `FdSet` (writing its bit would write
    /// past the end of the set; nix refuses with a panic). Refuse it here, with an error
    /// that becomes that connection's failure.
    fn added<W: Watched>(&mut self, watched: &W) -> io::Result<()> {
        let fd = watched.as_fd().as_raw_fd();
        if usize::try_from(fd).is_ok_and(|fd| fd < FD_SETSIZE) {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "descriptor {fd} is at or above FD_SETSIZE ({FD_SETSIZE}): select() cannot watch it"
            )))
        }
    }

    // ANCHOR: select_wait
    fn wait<W: Watched>(
        &mut self,
        watched: &BTreeMap<RawFd, W>,
        timeout: Option<Duration>,
        ready: &mut Vec<RawFd>,
    ) -> io::Result<()> {
        // Rebuilt from scratch on every call: select() overwrites the sets with its answer.
        let mut readable = FdSet::new();
        let mut writable = FdSet::new();
        for source in watched.values() {
            match source.wants() {
                Wants::Read => readable.insert(source.as_fd()),
                Wants::Write => writable.insert(source.as_fd()),
            }
        }
        let mut timeout =
            timeout.map(|t| TimeVal::microseconds(t.as_micros().try_into().unwrap_or(i64::MAX)));
        // The one blocking call: sleep until the kernel has news about any of them.
        match select(None, &mut readable, &mut writable, None, timeout.as_mut()) {
            Ok(_) => {}
            Err(Errno::EINTR) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        // The answer is the same sets with only the ready bits left: test every descriptor.
        for (fd, source) in watched {
            if readable.contains(source.as_fd()) || writable.contains(source.as_fd()) {
                ready.push(*fd);
            }
        }
        Ok(())
    }
    // ANCHOR_END: select_wait
}
