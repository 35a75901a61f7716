//! `epoll(7)` (Linux): the watched set lives in the kernel. We tell it about changes once, and
//! each wait returns only the descriptors that are ready, however many are watched.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::PollTimeout;
use nix::sys::epoll::{Epoll as EpollFd, EpollCreateFlags, EpollEvent, EpollFlags};
use step02_nonblocking::connection::Wants;

use crate::waiter::{Waiter, Watched, timeout_ms};

/// The most events one wait returns; more ready descriptors are simply reported by the next
/// wait (level-triggered: they are still ready).
const MAX_EVENTS: usize = 1024;

/// The `epoll` waiter: an epoll instance (closed on drop) and a buffer for its answers.
#[derive(Debug)]
pub struct Epoll {
    /// The kernel object that holds the watched set.
    epoll: EpollFd,
    /// Where `epoll_wait` writes the ready events.
    events: Vec<EpollEvent>,
}

impl Epoll {
    /// Creates the epoll instance (`epoll_create1`).
    pub fn new() -> io::Result<Epoll> {
        Ok(Epoll {
            epoll: EpollFd::new(EpollCreateFlags::EPOLL_CLOEXEC)?,
            events: vec![EpollEvent::empty(); 64],
        })
    }
}

/// The event for a watched descriptor: what it wants, level-triggered (no `EPOLLET`), and its
/// number as the event's data, so a ready event says which descriptor it is about.
fn event_for<W: Watched>(watched: &W) -> EpollEvent {
    let flags = match watched.wants() {
        Wants::Read => EpollFlags::EPOLLIN,
        Wants::Write => EpollFlags::EPOLLOUT,
    };
    EpollEvent::new(flags, watched.as_fd().as_raw_fd() as u64)
}

// ANCHOR: epoll
impl Waiter for Epoll {
    fn name(&self) -> &'static str {
        "epoll"
    }

    /// `epoll_ctl(EPOLL_CTL_ADD)`: from now on the kernel watches it for us.
    fn added<W: Watched>(&mut self, watched: &W) -> io::Result<()> {
        Ok(self.epoll.add(watched.as_fd(), event_for(watched))?)
    }

    /// `epoll_ctl(EPOLL_CTL_MOD)`: it now waits for the other direction.
    fn changed<W: Watched>(&mut self, watched: &W) -> io::Result<()> {
        Ok(self
            .epoll
            .modify(watched.as_fd(), &mut event_for(watched))?)
    }

    /// `epoll_ctl(EPOLL_CTL_DEL)`. (Closing the socket would also remove it, as long as no
    /// copy of the descriptor is open elsewhere; saying so is clearer.)
    fn removed<W: Watched>(&mut self, watched: &W) -> io::Result<()> {
        Ok(self.epoll.delete(watched.as_fd())?)
    }

    fn wait<W: Watched>(
        &mut self,
        watched: &BTreeMap<RawFd, W>,
        timeout: Option<Duration>,
        ready: &mut Vec<RawFd>,
    ) -> io::Result<()> {
        // Room for as many events as could be ready at once (up to a cap).
        let room = watched.len().clamp(1, MAX_EVENTS);
        self.events.resize(room, EpollEvent::empty());
        let timeout = timeout.map_or(PollTimeout::NONE, timeout_ms);
        // Only the ready ones come back: the watched set itself never crosses into the kernel.
        let n = match self.epoll.wait(&mut self.events, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        ready.extend(self.events[..n].iter().map(|event| event.data() as RawFd));
        Ok(())
    }
}
// ANCHOR_END: epoll
