//! The raw system calls of this step, in one place: a TCP socket in non-blocking mode.
//!
//! Everything here is a thin wrapper over one call (through nix, which checks the return value
//! and turns `-1` into an `Errno`); every error comes back as an `io::Error`, so `WouldBlock`
//! reads the same here as in the standard library. The lesson code above it decides what
//! each answer means.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::socket::{
    self, AddressFamily, SockFlag, SockType, SockaddrLike, SockaddrStorage, sockopt,
};

/// What `connect` on a non-blocking socket said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectStart {
    /// The connection was established before `connect` returned. Linux TCP does not do this,
    /// even on loopback, but the call's contract allows it (Unix-domain sockets do).
    Connected,
    /// `EINPROGRESS`: the handshake has started; the socket becomes writable when it ends.
    InProgress,
}

/// A TCP socket whose calls never wait. Closed when dropped.
#[derive(Debug)]
pub struct NonBlockingSocket {
    /// The socket; `OwnedFd` closes it on drop.
    fd: OwnedFd,
}

impl NonBlockingSocket {
    // ANCHOR: new_socket
    /// `socket(2)` for `addr`'s family, then `O_NONBLOCK` set with `fcntl(2)`: from now on no
    /// call on this socket waits.
    pub fn new(addr: &SocketAddr) -> io::Result<NonBlockingSocket> {
        let family = if addr.is_ipv4() {
            AddressFamily::Inet
        } else {
            AddressFamily::Inet6
        };
        let fd = socket::socket(family, SockType::Stream, SockFlag::empty(), None)?;
        // Read the current flags and add O_NONBLOCK, as `setblocking(0)` does in Python.
        let flags = OFlag::from_bits_truncate(fcntl(&fd, FcntlArg::F_GETFL)?);
        fcntl(&fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        Ok(NonBlockingSocket { fd })
    }
    // ANCHOR_END: new_socket

    // ANCHOR: connect
    /// `connect(2)`. On a non-blocking socket it does not wait for the handshake: it returns
    /// `EINPROGRESS` at once, which is not a failure.
    pub fn connect(&self, addr: &SocketAddr) -> io::Result<ConnectStart> {
        match socket::connect(self.fd.as_raw_fd(), &SockaddrStorage::from(*addr)) {
            Ok(()) => Ok(ConnectStart::Connected),
            Err(Errno::EINPROGRESS) => Ok(ConnectStart::InProgress),
            Err(e) => Err(e.into()),
        }
    }
    // ANCHOR_END: connect

    /// `getsockopt(SO_ERROR)`: the error of a connect that failed in the background, if any.
    /// Reading it clears it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        let code = socket::getsockopt(&self.fd, sockopt::SocketError)?;
        Ok((code != 0).then(|| io::Error::from_raw_os_error(code)))
    }

    /// `getpeername(2)`: the peer's address once connected; `None` while the handshake is
    /// still going (`ENOTCONN`).
    pub fn peer_addr(&self) -> io::Result<Option<SocketAddr>> {
        match socket::getpeername::<SockaddrStorage>(self.fd.as_raw_fd()) {
            Ok(peer) => Ok(to_socket_addr(&peer)),
            Err(Errno::ENOTCONN) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// `write(2)`: how many bytes the kernel took, or `WouldBlock` when its send buffer is full.
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        Ok(nix::unistd::write(&self.fd, buf)?)
    }

    /// `read(2)`: how many bytes arrived (0 at end-of-file), or `WouldBlock` when none have.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(nix::unistd::read(&self.fd, buf)?)
    }
}

impl AsFd for NonBlockingSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A nix socket address as a std one (IPv4 or IPv6; anything else is `None`).
fn to_socket_addr(addr: &SockaddrStorage) -> Option<SocketAddr> {
    match addr.family()? {
        AddressFamily::Inet => addr.as_sockaddr_in().map(|a| SocketAddr::V4((*a).into())),
        AddressFamily::Inet6 => addr.as_sockaddr_in6().map(|a| SocketAddr::V6((*a).into())),
        _ => None,
    }
}
