//! A receive into a borrowed buffer, the way a readiness runtime's `read(&mut buf)` works.
//! The ring keeps what an operation is given until the kernel is done with it, which can be
//! after this future is dropped and `buf`'s owner has moved on: so `Op` only takes what it can
//! keep, `'static` values it owns. The borrow is refused.
#![allow(unsafe_code)]

use io_uring::{opcode, types};
use step08_io_uring::uring::op::Op;

async fn read_into(fd: i32, buf: &mut [u8]) -> std::io::Result<u32> {
    let len = buf.len() as u32;
    // SAFETY (claimed): the entry points into `buf`... which may be gone before the kernel is.
    let op = unsafe {
        Op::start(buf, |buf| opcode::Recv::new(types::Fd(fd), buf.as_mut_ptr(), len).build())
    };
    let (n, _buf) = op.map_err(|(e, _)| e)?.await;
    n
}

fn main() {
    let mut buf = [0u8; 1024];
    drop(read_into(0, &mut buf));
}
