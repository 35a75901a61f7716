//! TCP on the ring, with owned buffers: every operation takes its buffer by value and gives it
//! back with the result, because the kernel holds the buffer until the operation is done, and
//! that can outlast the future that asked (see [`Op`]).
#![allow(unsafe_code)]

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::rc::Rc;

use io_uring::{cqueue, opcode, squeue, types};
use socket2::{SockAddr, SockAddrStorage};

use crate::uring::op::Op;
use crate::uring::pool::{GROUP, PoolBuf, given_back_since, no_pool};
use crate::uring::ring::Ring;

/// A socket shared by a stream and the operations it has in flight: closed when the last of
/// them lets go, so an orphaned operation never finds its descriptor closed (or, worse, reused
/// by another socket) under it.
pub(crate) struct Socket(Option<OwnedFd>);

impl Socket {
    fn raw(&self) -> RawFd {
        self.0.as_ref().expect("open until dropped").as_raw_fd()
    }
}

impl Drop for Socket {
    /// Closed with the ring's next batch when the ring is free to take it; otherwise (no
    /// runtime, or the ring is busy completing operations) with a plain `close`.
    fn drop(&mut self) {
        let Some(fd) = self.0.take() else { return };
        let left = match Ring::try_current() {
            Some(ring) => match ring.try_borrow_mut() {
                Ok(mut ring) => ring.close_later(fd).err(),
                Err(_) => Some(fd),
            },
            None => Some(fd),
        };
        drop(left); // OwnedFd's drop: close(2)
    }
}

/// A descriptor the kernel returned as a result.
fn owned(fd: u32) -> OwnedFd {
    // SAFETY: the kernel just made this descriptor for us (a socket or an accepted
    // connection), and nothing else knows its number.
    unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
}

/// A TCP connection on the current ring.
pub struct TcpStream {
    socket: Rc<Socket>,
}

/// Keeps a stream's socket open while it lives: what an operation written outside this module
/// puts in what the ring keeps, so that its descriptor cannot close (and its number be reused)
/// before the operation completes.
#[derive(Clone)]
pub struct KeepOpen(Rc<Socket>);

impl AsRawFd for KeepOpen {
    fn as_raw_fd(&self) -> RawFd {
        self.0.raw()
    }
}

impl TcpStream {
    /// A handle that keeps the socket open (see [`KeepOpen`]).
    pub fn keep_open(&self) -> KeepOpen {
        KeepOpen(Rc::clone(&self.socket))
    }
}

// ANCHOR: connect
impl TcpStream {
    /// Connects to `addr`. Both the socket and the connect are operations of the ring: they go
    /// to the kernel with the next batch, and cost no system call of their own.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let domain = if addr.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        let kind = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
        // SAFETY: a socket entry points to no memory.
        let socket = unsafe { Op::start((), |_| opcode::Socket::new(domain, kind, 0).build()) };
        let (fd, ()) = socket.map_err(|(e, ())| e)?.await;
        let socket = Rc::new(Socket(Some(owned(fd?))));
        let address = (Rc::clone(&socket), SockAddr::from(addr));
        // SAFETY: the address the entry points to is inside `keep`, which the ring holds until
        // the connect completes; so is the socket.
        let connect = unsafe {
            Op::start(address, |(socket, addr)| {
                opcode::Connect::new(types::Fd(socket.raw()), addr.as_ptr().cast(), addr.len())
                    .build()
            })
        };
        let (connected, _) = connect.map_err(|(e, _)| e)?.await;
        connected?;
        Ok(TcpStream { socket })
    }
    // ANCHOR_END: connect

    // ANCHOR: read_write
    /// Receives into `buf` (up to its length); hands `buf` back with how many bytes came (0 at
    /// end-of-file). The buffer is the ring's until the kernel is done with it.
    pub async fn read(&self, mut buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let keep = (Rc::clone(&self.socket), std::mem::take(&mut buf));
        // SAFETY: the entry points into the vector's heap memory, which `keep` owns and the
        // ring holds until the receive completes.
        let started = unsafe {
            Op::start(keep, |(socket, buf)| {
                opcode::Recv::new(types::Fd(socket.raw()), buf.as_mut_ptr(), len).build()
            })
        };
        match started {
            Ok(op) => {
                let (n, (_, buf)) = op.await;
                (n.map(|n| n as usize), buf)
            }
            Err((e, (_, buf))) => (Err(e), buf),
        }
    }

    /// Sends all of `buf`, in as many operations as the kernel needs; hands `buf` back.
    pub async fn write_all(&self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        let mut keep = (Rc::clone(&self.socket), buf, 0usize);
        while keep.2 < keep.1.len() {
            // SAFETY: the entry points into the vector's heap memory, past what was sent
            // already; `keep` owns it and the ring holds it until the send completes.
            let started = unsafe {
                Op::start(keep, |(socket, buf, sent)| {
                    let rest = &buf[*sent..];
                    let len = u32::try_from(rest.len()).unwrap_or(u32::MAX);
                    opcode::Send::new(types::Fd(socket.raw()), rest.as_ptr(), len).build()
                })
            };
            let sent = match started {
                Ok(op) => {
                    let (sent, back) = op.await;
                    keep = back;
                    sent
                }
                Err((e, back)) => return (Err(e), back.1),
            };
            match sent {
                Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), keep.1),
                Ok(n) => keep.2 += n as usize,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (Err(e), keep.1),
            }
        }
        (Ok(()), keep.1)
    }
    // ANCHOR_END: read_write

    // ANCHOR: read_from_pool
    /// Receives into a buffer of the ring's pool (see [`Ring::provide_buffers`]), which the
    /// kernel picks only when data arrives: while it waits, the receive holds no memory. The
    /// returned [`PoolBuf`] holds the bytes (none at end-of-file) and gives the buffer back
    /// when dropped. If the pool is empty, waits until a buffer comes back, and tries again.
    pub async fn read_from_pool(&self) -> io::Result<PoolBuf> {
        let ring = Ring::current();
        loop {
            let (size, seen) = match ring.borrow().pool() {
                Some(pool) => (pool.buffer_size(), pool.given_back_so_far()),
                None => return Err(no_pool()),
            };
            let len = u32::try_from(size).unwrap_or(u32::MAX);
            // SAFETY: the entry names no memory of ours but the pool's group: the kernel
            // writes into one of the pool's buffers, which the ring owns and outlives every
            // operation. `keep` holds the socket open until the receive completes.
            let started = unsafe {
                Op::start(Rc::clone(&self.socket), |socket| {
                    opcode::Recv::new(types::Fd(socket.raw()), std::ptr::null_mut(), len)
                        .buf_group(GROUP)
                        .build()
                        .flags(squeue::Flags::BUFFER_SELECT)
                })
            };
            let (received, flags, _) = started.map_err(|(e, _)| e)?.with_flags().await;
            // The buffer the kernel picked, if it picked one: from here on, ours to give back.
            let buf = |n| PoolBuf::new(Rc::clone(&ring), cqueue::buffer_select(flags), n);
            match received {
                Ok(n) => return Ok(buf(n as usize)),
                // Every buffer was out when data arrived: wait for one to come back.
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    ring.borrow_mut().ran_dry();
                    given_back_since(&ring, seen).await?;
                }
                Err(e) => {
                    drop(buf(0)); // an error takes no buffer, but if it did, it goes back
                    return Err(e);
                }
            }
        }
    }
    // ANCHOR_END: read_from_pool
}

/// A TCP listener on the current ring.
pub struct TcpListener {
    socket: Rc<Socket>,
    local: SocketAddr,
}

impl TcpListener {
    /// Binds `addr` (with plain system calls: it happens once).
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        let listener = std::net::TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        Ok(TcpListener {
            socket: Rc::new(Socket(Some(OwnedFd::from(listener)))),
            local,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stops listening now: from this moment, new clients are refused. Dropping the listener
    /// is not enough for that here: its descriptor is closed with the ring's next batch, and
    /// only once no operation holds it (an accept just cancelled may). `shutdown(2)` on a
    /// listening socket closes it for connections at once (Linux), and ends any accept.
    pub fn close(self) -> io::Result<()> {
        nix::sys::socket::shutdown(self.socket.raw(), nix::sys::socket::Shutdown::Both)
            .map_err(io::Error::from)
    }

    /// Accepts a connection: an operation of the ring, like every other.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let storage = SockAddrStorage::zeroed();
        let len = libc::socklen_t::try_from(std::mem::size_of::<SockAddrStorage>())
            .expect("a socket address fits");
        let keep = (Rc::clone(&self.socket), storage, len);
        // SAFETY: the address and its length, which the kernel writes, are inside `keep`,
        // which the ring holds until the accept completes.
        let started = unsafe {
            Op::start(keep, |(socket, storage, len)| {
                let addr: *mut SockAddrStorage = storage;
                opcode::Accept::new(types::Fd(socket.raw()), addr.cast(), len)
                    .flags(libc::SOCK_CLOEXEC)
                    .build()
            })
        };
        // Dropped after the kernel accepted, it leaves a connection nobody takes: the ring
        // closes it.
        let accepted = started.map_err(|(e, _)| e)?.result_is_descriptor();
        let (fd, (_, storage, len)) = accepted.await;
        let stream = TcpStream {
            socket: Rc::new(Socket(Some(owned(fd?)))),
        };
        // SAFETY: the kernel wrote a socket address of `len` bytes into `storage`.
        let peer = unsafe { SockAddr::new(storage, len) }
            .as_socket()
            .ok_or_else(|| io::Error::other("the peer's address is not an IP address"))?;
        Ok((stream, peer))
    }
}
