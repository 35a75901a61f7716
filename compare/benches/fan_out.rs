//! Every step's fan-out on one workload, in two criterion groups, so criterion's report charts
//! them side by side:
//!
//! - `compare/fan_out`: wall time of 100 connections, server delay 0, the server on a thread;
//! - `compare/cpu_per_connection`: the process's CPU time (user + system, every thread) per
//!   connection, for 1,000 connections, server delay 0, the server in a child process so that
//!   its CPU is not counted. The floor (`floor/bare-epoll`) is the first bench of the group: a
//!   regression in a step shows as its distance from the floor growing.
//!
//! ```text
//! cargo bench -p compare
//! cargo bench -p compare -- cpu_per_connection
//! ```

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BenchmarkId, Criterion, Throughput};
use testbed::report::ResourceUsage;
use testbed::{ChildServer, Plan, ServeArgs, Target, Workload};

const CONNECTIONS: usize = 100;

fn every_step(c: &mut Criterion) {
    let (_server, workload) = Workload::zero_delay(CONNECTIONS).expect("start the delay server");
    let mut group = c.benchmark_group("compare/fan_out");
    group.sample_size(20);
    for variant in compare::steps::all() {
        let id = BenchmarkId::new(variant.name(), CONNECTIONS);
        group.bench_with_input(id, &workload, |b, w| {
            b.iter(|| black_box((variant.fan_out)(w)))
        });
    }
    group.finish();
}

/// Connections per run of the CPU group.
const CPU_CONNECTIONS: usize = 1000;

/// What criterion measures in the CPU group: this process's CPU time (user + system, all its
/// threads, from `getrusage`), divided by the connections of one run, in nanoseconds.
struct CpuPerConnection;

impl Measurement for CpuPerConnection {
    type Intermediate = f64;
    type Value = f64;

    fn start(&self) -> f64 {
        cpu_ns()
    }

    fn end(&self, start: f64) -> f64 {
        (cpu_ns() - start) / CPU_CONNECTIONS as f64
    }

    fn add(&self, a: &f64, b: &f64) -> f64 {
        a + b
    }

    fn zero(&self) -> f64 {
        0.0
    }

    fn to_f64(&self, value: &f64) -> f64 {
        *value
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

/// The process's CPU time so far, in nanoseconds.
fn cpu_ns() -> f64 {
    let usage = ResourceUsage::now();
    (usage.user_ms + usage.sys_ms) * 1e6
}

/// Shows CPU nanoseconds per connection in µs or ms, as criterion shows wall time.
struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns cpu/conn")
        } else if typical < 1e6 {
            (1e-3, "µs cpu/conn")
        } else {
            (1e-6, "ms cpu/conn")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(&self, _: f64, _: &Throughput, values: &mut [f64]) -> &'static str {
        // The group sets no throughput; were one set, show the raw values.
        self.scale_for_machines(values)
    }

    fn scale_for_machines(&self, _: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn cpu_per_connection(c: &mut Criterion<CpuPerConnection>) {
    testbed::limits::ensure_open_files(testbed::limits::needed_for(CPU_CONNECTIONS))
        .expect("room for the sockets");
    // compare's own executable is also the delay server, when run as one.
    let args = ServeArgs {
        addr: ([127, 0, 0, 1], 0).into(),
        delay_ms: 0,
    };
    let server = ChildServer::spawn(Path::new(env!("CARGO_BIN_EXE_compare")), &args)
        .expect("start the delay server");
    let plan = Plan {
        connections: CPU_CONNECTIONS,
        delay_ms: 0,
        budget: Duration::from_secs(30),
    };
    let target = Target::new(server.addr(), "/delay/0");
    let workload = Workload::uniform(target, CPU_CONNECTIONS, Duration::from_secs(10));
    let mut group = c.benchmark_group("compare/cpu_per_connection");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for variant in compare::steps::all() {
        if (variant.cannot_run)(&plan).is_some() {
            continue;
        }
        let id = BenchmarkId::new(variant.name(), CPU_CONNECTIONS);
        group.bench_with_input(id, &workload, |b, w| {
            b.iter(|| black_box((variant.fan_out)(w)))
        });
    }
    group.finish();
}

fn main() {
    let mut wall = Criterion::default().configure_from_args();
    every_step(&mut wall);
    let mut cpu = Criterion::default()
        .with_measurement(CpuPerConnection)
        .configure_from_args();
    cpu_per_connection(&mut cpu);
    Criterion::default().configure_from_args().final_summary();
}
