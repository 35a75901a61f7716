//! No descriptor leaks: after a run, on any variant, successful or failing, the process has
//! exactly the descriptors it had before. (One test in its own binary, so that no other test
//! opens or closes descriptors meanwhile; the server runs in a child process for the same
//! reason.)

use std::path::Path;
use std::time::Duration;

use step03_select::select::open_descriptors;
use step03_select::{fan_out, poll::Poll, select::Select};
use testbed::{ChildServer, ServeArgs, Target, Workload};

/// Runs of every variant against good, refused, reset, hanging and truncating servers.
#[test]
fn runs_close_every_descriptor_they_open() {
    let args = ServeArgs {
        addr: ([127, 0, 0, 1], 0).into(),
        delay_ms: 10,
    };
    let server = ChildServer::spawn(Path::new(env!("CARGO_BIN_EXE_step03-select")), &args).unwrap();
    let refused = testbed::faults::refused_addr();
    let workloads = [
        Target::new(server.addr(), "/delay/10"),
        Target::new(refused, "/"),
        Target::new(server.addr(), "/chaos/reset"),
        Target::new(server.addr(), "/chaos/hang"),
        Target::new(server.addr(), "/chaos/short"),
    ];
    let before = open_descriptors().unwrap();
    for target in &workloads {
        let workload = Workload::uniform(target.clone(), 20, Duration::from_millis(300));
        let mut runs = vec![
            fan_out(&workload, Select, None),
            fan_out(&workload, Poll, None),
        ];
        #[cfg(target_os = "linux")]
        runs.push(fan_out(
            &workload,
            step03_select::epoll::Epoll::new().unwrap(),
            None,
        ));
        for results in runs {
            assert_eq!(results.len(), 20);
        }
        assert_eq!(
            open_descriptors().unwrap(),
            before,
            "descriptors leaked by a run against {}",
            target.path
        );
    }
}
