//! The cost of one wait: K idle descriptors and one ready, for select, poll and epoll.
//!
//! ```text
//! cargo bench -p step03-select --bench wait
//! ```
//!
//! The descriptors are UDP sockets: idle ones never receive anything, the ready one has a
//! datagram waiting (never read, so it stays ready: the waits are level-triggered). select and
//! poll hand all K + 1 descriptors to the kernel on every call, and the kernel checks each;
//! epoll was told about them once, and its wait looks only at the ready list. select is
//! measured only where every descriptor fits below FD_SETSIZE.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::UdpSocket;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use nix::sys::select::FD_SETSIZE;
use step02_nonblocking::connection::Wants;
use step03_select::poll::Poll;
use step03_select::select::Select;
use step03_select::waiter::{Waiter, Watched};

/// A socket watched for reading.
struct Readable(UdpSocket);

impl AsFd for Readable {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl Watched for Readable {
    fn wants(&self) -> Wants {
        Wants::Read
    }
}

/// `idle` sockets that never become ready and one that is, keyed by descriptor number.
fn descriptors(idle: usize) -> BTreeMap<RawFd, Readable> {
    let mut watched = BTreeMap::new();
    for _ in 0..idle {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind an idle socket");
        watched.insert(socket.as_raw_fd(), Readable(socket));
    }
    let ready = UdpSocket::bind("127.0.0.1:0").expect("bind the ready socket");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind the sender");
    sender
        .send_to(b"ready", ready.local_addr().unwrap())
        .expect("send the datagram");
    watched.insert(ready.as_raw_fd(), Readable(ready));
    watched
}

/// Benchmarks one wait of `waiter` over `watched`: exactly one descriptor must come back.
fn bench_wait<W: Waiter>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    mut waiter: W,
    watched: &BTreeMap<RawFd, Readable>,
    idle: usize,
) {
    for source in watched.values() {
        waiter.added(source).expect("register a descriptor");
    }
    let mut ready = Vec::with_capacity(1);
    // Make sure the datagram has arrived before timing anything.
    waiter
        .wait(watched, Some(Duration::from_secs(5)), &mut ready)
        .expect("wait");
    assert_eq!(ready.len(), 1, "{}: one descriptor is ready", waiter.name());
    group.bench_with_input(
        BenchmarkId::new(waiter.name(), idle),
        watched,
        |b, watched| {
            b.iter(|| {
                ready.clear();
                waiter
                    .wait(black_box(watched), Some(Duration::from_secs(1)), &mut ready)
                    .expect("wait");
                black_box(&ready);
            });
        },
    );
}

fn wait(c: &mut Criterion) {
    testbed::limits::ensure_open_files(10_200).expect("room for 10,000 idle sockets");
    let mut group = c.benchmark_group("step03-select/wait");
    for idle in [10, 100, 1_000, 10_000] {
        let watched = descriptors(idle);
        let highest = watched.keys().last().copied().unwrap_or(0);
        if usize::try_from(highest).is_ok_and(|fd| fd < FD_SETSIZE) {
            bench_wait(&mut group, Select, &watched, idle);
        }
        bench_wait(&mut group, Poll, &watched, idle);
        #[cfg(target_os = "linux")]
        bench_wait(
            &mut group,
            step03_select::epoll::Epoll::new().expect("create epoll"),
            &watched,
            idle,
        );
    }
    group.finish();
}

criterion_group!(benches, wait);
criterion_main!(benches);
