//! The fan-out, one connection after another.

use testbed::{ConnectionResult, Workload};

use crate::fetch::fetch;

// ANCHOR: sequential
/// Runs every connection to the end before starting the next. The whole run takes the sum of
/// all connections' times: N connections to a server that waits L each take N x L.
pub fn sequential(workload: &Workload) -> Vec<ConnectionResult> {
    (0..workload.len()).map(|id| fetch(workload, id)).collect()
}
// ANCHOR_END: sequential
