//! `poll(2)`: an array of (descriptor, events wanted) instead of bit sets. No `FD_SETSIZE`, but
//! the whole array still goes to the kernel, and comes back, on every call.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use step02_nonblocking::connection::Wants;

use crate::waiter::{Waiter, Watched, timeout_ms};

/// The `poll` waiter. Like `select`, it has no state between calls.
#[derive(Debug, Default)]
pub struct Poll;

impl Waiter for Poll {
    fn name(&self) -> &'static str {
        "poll"
    }

    // ANCHOR: poll_wait
    fn wait<W: Watched>(
        &mut self,
        watched: &BTreeMap<RawFd, W>,
        timeout: Option<Duration>,
        ready: &mut Vec<RawFd>,
    ) -> io::Result<()> {
        let mut fds: Vec<PollFd<'_>> = watched
            .values()
            .map(|source| {
                let wanted = match source.wants() {
                    Wants::Read => PollFlags::POLLIN,
                    Wants::Write => PollFlags::POLLOUT,
                };
                PollFd::new(source.as_fd(), wanted)
            })
            .collect();
        let timeout = timeout.map_or(PollTimeout::NONE, timeout_ms);
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(Errno::EINTR) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        // Any returned event counts, including POLLERR and POLLHUP (a failed connect, a reset):
        // the connection's next call will find out what happened.
        for (fd, entry) in watched.keys().zip(&fds) {
            if entry.revents().is_some_and(|events| !events.is_empty()) {
                ready.push(*fd);
            }
        }
        Ok(())
    }
    // ANCHOR_END: poll_wait
}
