//! Every step and variant `compare` knows, in one table. Adding a step's rows is adding entries
//! here (and the step as a dependency in `Cargo.toml`).

use std::time::Duration;

use testbed::{Outcome, Workload};

/// What a comparison run asks of every variant.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Connections per run.
    pub connections: usize,
    /// The server's delay.
    pub delay_ms: u64,
    /// The longest a variant may be expected to take; slower ones are skipped, with the reason.
    pub budget: Duration,
}

/// One row of the comparison: a step's fan-out in one of its variants.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// The step's crate name (or `tokio` for the reference).
    pub step: &'static str,
    /// The variant's name, as the step's `--variant` spells it.
    pub variant: &'static str,
    /// Runs the fan-out (in a child process of `compare`).
    pub fan_out: fn(&Workload) -> Outcome,
    /// Why this variant cannot run the plan, if it cannot.
    pub cannot_run: fn(&Plan) -> Option<String>,
}

impl Variant {
    /// `step/variant`, the row's name in `--steps` and in errors.
    pub fn name(&self) -> String {
        format!("{}/{}", self.step, self.variant)
    }

    /// Whether a `--steps` entry selects this variant: the step, the variant, or both as
    /// `step/variant`.
    pub fn matches(&self, filter: &str) -> bool {
        filter == self.step || filter == self.variant || filter == self.name()
    }
}

/// Anything can run anything.
fn always(_: &Plan) -> Option<String> {
    None
}

/// One connection after another takes N x the delay: skip it past the budget.
fn sequential_budget(plan: &Plan) -> Option<String> {
    let expected = Duration::from_millis(plan.delay_ms.saturating_mul(plan.connections as u64));
    (expected > plan.budget).then(|| {
        format!(
            "would take about {:.0} s ({} x {} ms), over the {} s budget (--budget-s)",
            expected.as_secs_f64(),
            plan.connections,
            plan.delay_ms,
            plan.budget.as_secs()
        )
    })
}

/// select() cannot watch descriptor numbers past FD_SETSIZE.
fn fd_setsize(plan: &Plan) -> Option<String> {
    step03_select::select::check_capacity(plan.connections)
        .err()
        .map(|_| {
            format!(
                "select() cannot watch descriptors numbered {} or more (FD_SETSIZE)",
                nix::sys::select::FD_SETSIZE
            )
        })
}

/// Every connection failed with the same setup error (a waiter that could not be created).
#[cfg(target_os = "linux")]
fn all_failed(workload: &Workload, why: &str) -> Outcome {
    Outcome::from(workload.all_failed(&testbed::FetchError::Setup(why.to_string())))
}

// ANCHOR: variants
/// All the variants, in the order of the book.
pub fn all() -> Vec<Variant> {
    let mut variants = vec![
        Variant {
            step: "step01-blocking",
            variant: "sequential",
            fan_out: |w| step01_blocking::sequential(w).into(),
            cannot_run: sequential_budget,
        },
        Variant {
            step: "step01-blocking",
            variant: "threads",
            fan_out: |w| step01_blocking::threads(w, step01_blocking::STACK_SIZE).into(),
            cannot_run: always,
        },
        Variant {
            step: "step02-nonblocking",
            variant: "busy-wait",
            fan_out: |w| step02_nonblocking::busy_wait(w).into(),
            cannot_run: always,
        },
        Variant {
            step: "step03-select",
            variant: "select",
            fan_out: |w| step03_select::fan_out(w, step03_select::select::Select, None).into(),
            cannot_run: fd_setsize,
        },
        Variant {
            step: "step03-select",
            variant: "poll",
            fan_out: |w| step03_select::fan_out(w, step03_select::poll::Poll, None).into(),
            cannot_run: always,
        },
    ];
    #[cfg(target_os = "linux")]
    variants.push(Variant {
        step: "step03-select",
        variant: "epoll",
        fan_out: |w| match step03_select::epoll::Epoll::new() {
            Ok(epoll) => step03_select::fan_out(w, epoll, None).into(),
            Err(e) => all_failed(w, &format!("cannot create an epoll instance: {e}")),
        },
        cannot_run: always,
    });
    variants.push(Variant {
        step: "step04-callbacks",
        variant: "callbacks",
        fan_out: |w| step04_callbacks::fan_out(w).into(),
        cannot_run: always,
    });
    variants.extend([
        Variant {
            step: "step05-futures",
            variant: "state-machine",
            fan_out: |w| step05_futures::fan_out::state_machine(w).into(),
            cannot_run: always,
        },
        Variant {
            step: "step05-futures",
            variant: "join-all",
            fan_out: |w| step05_futures::fan_out::join_all(w).into(),
            cannot_run: always,
        },
        Variant {
            step: "step05-futures",
            variant: "unordered",
            fan_out: |w| step05_futures::fan_out::unordered(w, None).into(),
            cannot_run: always,
        },
    ]);
    variants.push(Variant {
        step: "step06-async-await",
        variant: "ours",
        fan_out: |w| step06_async_await::fan_out(w, Default::default()).into(),
        cannot_run: always,
    });
    // Step 7: the blocking-looking code of step 1, one green thread per connection.
    variants.push(Variant {
        step: "step07-green-threads",
        variant: "green",
        fan_out: |w| {
            step07_green_threads::fan_out(w, step07_green_threads::Options::default()).into()
        },
        cannot_run: always,
    });
    // The yardstick: the same async code as step 6, on tokio (one thread).
    variants.push(Variant {
        step: "tokio",
        variant: "current-thread",
        fan_out: |w| step06_async_await::on_tokio::fan_out(w, Default::default()).into(),
        cannot_run: always,
    });
    variants
}
// ANCHOR_END: variants
