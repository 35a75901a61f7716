//! # Step 8: completion-based I/O on io_uring
//!
//! Every step before this one is built on *readiness*: the kernel says "this socket can be
//! read now", and the program makes the system call itself. io_uring works the other way: the
//! program hands the kernel the whole operation, with its buffer, and the kernel says when it
//! is *done*. Windows' IOCP works this way too (asyncio's `ProactorEventLoop`, Twisted's
//! `iocpreactor`).
//!
//! The runtime is step 5's executor, unchanged ([`step05_futures::executor::block_on_driven`]);
//! what it sleeps in is an io_uring ring instead of step 5's reactor ([`uring::ring`]). The
//! async code is step 6's, with one difference that completion forces on every API built on
//! it: buffers are *owned*. An operation takes its buffer by value and gives it back with the
//! result, because the kernel writes into the buffer until the operation completes, and that
//! can be after the future that asked was dropped. Or, so that a waiting receive holds no
//! memory at all, it names a pool the ring gave the kernel, and the kernel picks a buffer from
//! it when data arrives ([`uring::pool`]).
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`fetch`] | one connection: step 6's `exchange`, reading into the pool or an owned buffer |
//! | [`fan_out`](mod@fan_out) | a task per connection, and the ring's counts in the report |
//! | [`echo`] | the echo server, a task per connection |
//! | [`uring::ring`] | the ring: submissions, completions, orphans; what the executor sleeps in |
//! | [`uring::op`] | `Op<T>`, the one leaf future: an operation and what it keeps |
//! | [`uring::net`] | `TcpStream`, `TcpListener` with owned buffers, or the ring's pool |
//! | [`uring::pool`] | the pool of receive buffers the kernel picks from when data arrives |
//! | [`uring::time`] | `sleep` and `timeout` on the ring's timers (step 5's `Timers`) |
#![deny(unsafe_code)]

pub mod echo;
pub mod fan_out;
pub mod fetch;
pub mod uring;

pub use fan_out::{FanOut, Options, fan_out, variants};
pub use uring::{block_on, block_on_ring};

/// For tests: whether io_uring can be used here. Where it cannot, says why on stderr and
/// returns `false`, so the test can return early (skipped, with its reason), unless the
/// environment variable `STEP08_REQUIRE_IO_URING` is set: then a missing io_uring fails the
/// test. (CI sets it, on a machine where io_uring works, so that nothing is skipped there by
/// accident.)
pub fn io_uring_here(test: &str) -> bool {
    io_uring_or_skip(test, std::env::var_os("STEP08_REQUIRE_IO_URING").is_some())
}

/// [`io_uring_here`], with `required` in place of the environment variable.
pub fn io_uring_or_skip(test: &str, required: bool) -> bool {
    let Some(reason) = unavailable() else {
        return true;
    };
    assert!(
        !required,
        "{test}: io_uring is required here (STEP08_REQUIRE_IO_URING), but: {reason}"
    );
    eprintln!("{test}: skipped: {reason}");
    false
}

/// Why io_uring cannot be used here, if it cannot: `None` when it can. The answer names the
/// cause and the fix. (Containers often forbid it: Docker's default seccomp profile blocks
/// `io_uring_setup`, and Linux 6.6 added `kernel.io_uring_disabled`.)
pub fn unavailable() -> Option<String> {
    match io_uring::IoUring::new(2) {
        Ok(ring) => {
            let mut probe = io_uring::Probe::new();
            if ring.submitter().register_probe(&mut probe).is_err()
                || !probe.is_supported(io_uring::opcode::Socket::CODE)
            {
                return Some(
                    "this kernel's io_uring cannot create sockets (IORING_OP_SOCKET needs \
                     Linux 5.19 or later)"
                        .into(),
                );
            }
            None
        }
        Err(e) => Some(match e.raw_os_error() {
            Some(libc::ENOSYS) => format!(
                "this kernel has no io_uring ({e}): it needs Linux 5.19 or later, built with \
                 CONFIG_IO_URING"
            ),
            Some(libc::EPERM) | Some(libc::EACCES) => format!(
                "io_uring is not allowed here ({e}): either the sysctl kernel.io_uring_disabled \
                 is set (fix: `sysctl kernel.io_uring_disabled=0`, as root), or a seccomp profile \
                 blocks it, as Docker's default does (fix: run the container with a profile that \
                 allows io_uring_setup, io_uring_enter and io_uring_register)"
            ),
            _ => format!("io_uring could not be set up: {e}"),
        }),
    }
}
