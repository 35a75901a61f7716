//! Every interop case, run against a local delay server: whose I/O, on whose executor, and
//! what happened.
//!
//! ```text
//! cargo run --release -p interop
//! ```
#![forbid(unsafe_code)]

use testbed::Workload;

fn main() -> std::io::Result<()> {
    let (_server, workload) = Workload::zero_delay(1)?;
    let target = &workload.targets[0];
    // The panics are the point of some cases: print their messages in the table, not as
    // "thread panicked at" noise.
    std::panic::set_hook(Box::new(|_| {}));
    for case in interop::cases() {
        let verdict = (case.run)(target);
        println!("{} on {}\n    {verdict}", case.io, case.executor);
    }
    Ok(())
}
