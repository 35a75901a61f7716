//! The one fan-out contract every step keeps: each step crate lists its fan-outs as
//! [`Variant`]s (`variants()` in its `fan_out.rs`), and both its binary (`--variant`) and
//! `compare` read that list. A variant runs with the step's defaults; the binary's own options
//! (a stack size, a limit) are extras on top.
//!
//! One policy for machinery that cannot start (the kernel refuses an epoll instance, say, when
//! the process is out of descriptors): a fan-out reports it as a failed run, every connection
//! failing with a `Setup` error that says why (step 3's epoll variant, step 4's event loop,
//! step 6 on tokio); the runtimes' own entry points, step 5's `block_on` and step 7's `run`,
//! panic with the reason instead, as a `main` that `unwrap`s tokio's runtime builder would:
//! they return the future's value and have no error to return beside it.

use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser};

use crate::report::Outcome;
use crate::workload::Workload;

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

/// One of a step's fan-outs.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// The step's crate name (or `tokio` for `compare`'s reference row).
    pub step: &'static str,
    /// The variant's name, as `--variant` spells it.
    pub variant: &'static str,
    /// What it is, in a few words (`--help` shows it).
    pub about: &'static str,
    /// Runs the fan-out, with the step's defaults.
    pub fan_out: fn(&Workload) -> Outcome,
    /// Why this variant cannot run a plan, if it cannot ([`always`] for most).
    pub cannot_run: fn(&Plan) -> Option<String>,
}

impl Variant {
    /// `step/variant`, the name `compare` gives the row.
    pub fn name(&self) -> String {
        format!("{}/{}", self.step, self.variant)
    }

    /// Whether a filter (`compare --steps`) selects this variant: the step, the variant, or
    /// both as `step/variant`.
    pub fn matches(&self, filter: &str) -> bool {
        filter == self.step || filter == self.variant || filter == self.name()
    }
}

/// A variant that can run any plan.
pub fn always(_: &Plan) -> Option<String> {
    None
}

/// The parser of a binary's `--variant`: the names in `variants`, each with its `about` as
/// help.
pub fn parser(variants: &[Variant]) -> PossibleValuesParser {
    PossibleValuesParser::new(
        variants
            .iter()
            .map(|v| PossibleValue::new(v.variant).help(v.about)),
    )
}

/// The variant named `name` in `variants`. Panics if there is none (the binary's parser only
/// lets listed names through).
pub fn find(variants: &[Variant], name: &str) -> Variant {
    *variants
        .iter()
        .find(|v| v.variant == name)
        .unwrap_or_else(|| panic!("no variant {name}"))
}
