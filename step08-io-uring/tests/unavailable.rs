//! Where io_uring is not allowed (here: a seccomp filter, as Docker's default profile installs,
//! that answers `io_uring_setup` with EPERM), the binary does not crash or hang: it exits with
//! code 2 and a message that names the cause and the fix: the message chapter 8 shows.
#![allow(unsafe_code)]

use std::os::unix::process::CommandExt;
use std::process::Command;

/// The system call number of `io_uring_setup` (the same on every Linux architecture).
const IO_URING_SETUP: u32 = 425;

/// In the child, before it runs the binary: forbid `io_uring_setup` (EPERM), allow the rest.
fn forbid_io_uring() -> std::io::Result<()> {
    let filter = [
        // Load the system call number (offset 0 of `struct seccomp_data`).
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        // io_uring_setup? Then the next instruction; otherwise skip it.
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: IO_URING_SETUP,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        },
    ];
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: plain prctl calls, async-signal-safe, with a filter that lives across the call
    // (the kernel copies it).
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &program as *const libc::sock_fprog,
            ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[test]
fn blocked_io_uring_exits_2_and_says_why() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_step08-io-uring"));
    command.args(["--connections", "1"]);
    // SAFETY: the closure only calls prctl, which is async-signal-safe, between fork and exec.
    unsafe { command.pre_exec(forbid_io_uring) };
    let output = command.output().expect("run the binary");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("io_uring is not allowed here"), "{stderr}");
    assert!(
        stderr.contains("seccomp"),
        "the message names the cause: {stderr}"
    );
    assert!(
        stderr.contains("io_uring_disabled"),
        "and the other cause: {stderr}"
    );
}

/// The tests' guard: where io_uring is forbidden (here, on one thread, by the same seccomp
/// filter), a test is skipped with its reason; unless io_uring is required, and then it fails.
#[test]
fn tests_skip_only_where_io_uring_is_forbidden_and_not_required() {
    std::thread::spawn(|| {
        // Seccomp filters and no_new_privs apply to the calling thread only.
        forbid_io_uring().expect("install the seccomp filter");
        assert!(!step08_io_uring::io_uring_or_skip("forbidden", false));
        let required =
            std::panic::catch_unwind(|| step08_io_uring::io_uring_or_skip("forbidden", true));
        assert!(required.is_err(), "required and forbidden: the test fails");
    })
    .join()
    .unwrap();
}
