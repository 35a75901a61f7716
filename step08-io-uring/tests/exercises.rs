//! Chapter 8's exercise 3, solved and checked: receives that hold no buffer while they wait.
//! The kernel is given a pool of buffers (`IORING_OP_PROVIDE_BUFFERS`) under a group number;
//! a receive with `BUFFER_SELECT` takes one from the group only when data arrives, and its
//! completion's flags say which. The task copies the bytes out and gives the buffer back.
#![allow(unsafe_code)]

use std::cell::Cell;
use std::io;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

use futures::future::join_all;
use io_uring::{cqueue, opcode, squeue, types};
use step05_futures::spawn;
use step08_io_uring::uring::net::TcpStream;
use step08_io_uring::uring::op::Op;
use step08_io_uring::uring::time::sleep;
use step08_io_uring::{block_on, io_uring_here};
use testbed::{ServerConfig, ServerHandle, Workload};

// ANCHOR: pool
/// The size of each buffer of the pool.
const SIZE: usize = 8 * 1024;
/// The pool's group number: receives name it to pick a buffer from it.
const GROUP: u16 = 7;

/// The memory of a pool: `count` buffers of `SIZE` bytes in one block. The kernel writes into
/// it from receives; we only ever read a buffer the kernel has finished with, through raw
/// pointers, and never make a Rust reference to the whole block.
struct Block {
    base: *mut u8,
    len: usize,
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: `base` and `len` come from the boxed slice leaked in `Pool::new`, and the
        // last `Rc` of the block is gone: no operation that could use it is in flight (each
        // keeps an `Rc`).
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.base, self.len)) });
    }
}

/// A pool of receive buffers, provided to the kernel.
struct Pool {
    block: Rc<Block>,
    /// How many times a receive found every buffer in use (and waited).
    ran_dry: Cell<u32>,
}

impl Pool {
    /// Makes `count` buffers and provides them all to the kernel.
    async fn new(count: u16) -> io::Result<Pool> {
        let len = SIZE * usize::from(count);
        let base = Box::into_raw(vec![0u8; len].into_boxed_slice()).cast::<u8>();
        let pool = Pool {
            block: Rc::new(Block { base, len }),
            ran_dry: Cell::new(0),
        };
        pool.provide(0, count).await?;
        Ok(pool)
    }

    /// Gives buffers `first..first + count` (back) to the kernel.
    async fn provide(&self, first: u16, count: u16) -> io::Result<()> {
        let block = Rc::clone(&self.block);
        // SAFETY: the entry points into the block, which the ring keeps (an `Rc`) until the
        // operation completes; the buffers given are ones nobody reads now.
        let op = unsafe {
            Op::start(block, |block| {
                let at = block.base.add(SIZE * usize::from(first));
                opcode::ProvideBuffers::new(at, SIZE as i32, count, GROUP, first).build()
            })
        };
        let (done, _) = op.map_err(|(e, _)| e)?.await;
        done.map(drop)
    }

    /// Receives from `stream` into a buffer of the pool, appends the bytes to `out`, and gives
    /// the buffer back. 0 at end-of-file. While it waits, it holds no buffer.
    async fn read(&self, stream: &TcpStream, out: &mut Vec<u8>) -> io::Result<usize> {
        loop {
            let keep = (stream.keep_open(), Rc::clone(&self.block));
            // SAFETY: no pointer: the kernel picks a buffer of the group, inside the block,
            // which `keep` holds (with the socket) until the receive completes.
            let op = unsafe {
                Op::start(keep, |(socket, _)| {
                    let fd = types::Fd(socket.as_raw_fd());
                    opcode::Recv::new(fd, std::ptr::null_mut(), SIZE as u32)
                        .buf_group(GROUP)
                        .build()
                        .flags(squeue::Flags::BUFFER_SELECT)
                })
            };
            let (received, flags, _) = op.map_err(|(e, _)| e)?.with_flags().await;
            match received {
                // Every buffer is in use: wait for one to come back, and try again.
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.ran_dry.set(self.ran_dry.get() + 1);
                    sleep(Duration::from_millis(1)).await;
                }
                Err(e) => return Err(e),
                Ok(n) => {
                    if let Some(id) = cqueue::buffer_select(flags) {
                        let n = n as usize;
                        // SAFETY: the kernel wrote `n` bytes into buffer `id` and is done with
                        // it (its completion is reaped); it will not touch it again until we
                        // provide it back, below.
                        let bytes = unsafe {
                            std::slice::from_raw_parts(
                                self.block.base.add(SIZE * usize::from(id)),
                                n,
                            )
                        };
                        out.extend_from_slice(bytes);
                        self.provide(id, 1).await?;
                    }
                    return Ok(n as usize);
                }
            }
        }
    }
}
// ANCHOR_END: pool

/// A hundred connections reading their responses through a pool of four buffers: every
/// response arrives whole, and the pool ran dry on the way (so the wait-and-retry path ran).
/// To make it run dry every time, each task waits until its answer is surely there before it
/// starts reading, so that the hundred receives go to the kernel together, each with its data
/// already waiting, and four buffers are all there is.
#[test]
fn a_hundred_connections_share_four_buffers() {
    if !io_uring_here("a_hundred_connections_share_four_buffers") {
        return;
    }
    let server = ServerHandle::start(ServerConfig::default()).unwrap();
    let workload = Workload::delayed(server.addr(), 100, 20);
    let (responses, ran_dry) = block_on(async {
        let pool = Rc::new(Pool::new(4).await.expect("provide the buffers"));
        let tasks: Vec<_> = workload
            .targets
            .iter()
            .map(|target| {
                let (target, pool) = (target.clone(), Rc::clone(&pool));
                spawn(async move {
                    let stream = TcpStream::connect(target.addr).await?;
                    let (sent, _) = stream.write_all(target.request()).await;
                    sent?;
                    // The server answers after 20 ms: read only once the answer is there.
                    sleep(Duration::from_millis(200)).await;
                    let mut response = Vec::new();
                    while pool.read(&stream, &mut response).await? > 0 {}
                    io::Result::Ok(response)
                })
            })
            .collect();
        let responses = join_all(tasks).await;
        (responses, pool.ran_dry.get())
    });
    for response in responses {
        let response = response.expect("the connection succeeds");
        let mut check = workload.response_check();
        check.feed(&response).expect("a good response");
        check.finish().expect("a whole response");
    }
    assert!(
        ran_dry > 0,
        "with 4 buffers for 100 answers waiting at once, some receives waited for a buffer"
    );
}
