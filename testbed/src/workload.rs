//! The one workload every step runs: N connections, one request each.

use std::net::SocketAddr;
use std::time::Duration;

use crate::record::{ConnectionRecord, RunClock};
use crate::response::{DEFAULT_BODY_LIMIT, ResponseCheck};

// ANCHOR: target
/// Where one connection goes and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The server's address.
    pub addr: SocketAddr,
    /// The `Host` header: the name the user gave (`example.com:80`), or the address.
    pub host: String,
    /// The request path, starting with `/`.
    pub path: String,
}
// ANCHOR_END: target

impl Target {
    /// A target whose `Host` header is the address itself (right for the embedded server).
    pub fn new(addr: SocketAddr, path: impl Into<String>) -> Target {
        Target {
            addr,
            host: addr.to_string(),
            path: path.into(),
        }
    }

    /// The request every connection sends: plain HTTP/1.0, so the server closes the
    /// connection after answering and "read until EOF" is the whole protocol.
    pub fn request(&self) -> Vec<u8> {
        format!("GET {} HTTP/1.0\r\nHost: {}\r\n\r\n", self.path, self.host).into_bytes()
    }
}

// ANCHOR: workload
/// A fan-out to run: one [`Target`] per connection (connection `id` goes to `targets[id]`),
/// the per-connection deadline, the body limit, and the clock all times are measured on.
#[derive(Debug, Clone)]
pub struct Workload {
    /// One entry per connection. Usually all the same; the fault suite mixes good and bad.
    pub targets: Vec<Target>,
    /// How long one connection may take from the start of its connect to its last byte;
    /// past it, the connection fails with "timed out".
    pub timeout: Duration,
    /// The response body limit passed to every [`ResponseCheck`].
    pub body_limit: usize,
    /// Time zero of the run.
    pub clock: RunClock,
}
// ANCHOR_END: workload

impl Workload {
    /// `connections` connections to the same target. The clock starts now.
    pub fn uniform(target: Target, connections: usize, timeout: Duration) -> Workload {
        Workload::mixed(vec![target; connections], timeout)
    }

    /// `connections` connections to `/delay/{delay_ms}` on `server`, each with a 10 s deadline:
    /// the workload most tests run.
    pub fn delayed(server: std::net::SocketAddr, connections: usize, delay_ms: u64) -> Workload {
        let target = Target::new(server, format!("/delay/{delay_ms}"));
        Workload::uniform(target, connections, Duration::from_secs(10))
    }

    /// One connection per target, in order. The clock starts now.
    pub fn mixed(targets: Vec<Target>, timeout: Duration) -> Workload {
        Workload {
            targets,
            timeout,
            body_limit: DEFAULT_BODY_LIMIT,
            clock: RunClock::start(),
        }
    }

    /// A server on a thread with no delay, and `connections` connections to it: the small
    /// workload every step's benchmark runs, where what is measured is the mechanism (connects,
    /// threads, system calls, wake-ups), not the waiting. Keep the server alive while using
    /// the workload.
    pub fn zero_delay(connections: usize) -> std::io::Result<(crate::ServerHandle, Workload)> {
        let config = crate::ServerConfig {
            default_delay: Duration::ZERO,
            ..crate::ServerConfig::default()
        };
        let server = crate::ServerHandle::start(config)?;
        let target = Target::new(server.addr(), "/delay/0");
        Ok((
            server,
            Workload::uniform(target, connections, Duration::from_secs(10)),
        ))
    }

    /// How many connections the fan-out opens.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Starts the record of connection `id`: call it just before its connect begins.
    pub fn record(&self, id: usize) -> ConnectionRecord {
        ConnectionRecord::start(self.clock, id, self.timeout)
    }

    /// Every connection failed before it started, with the same `error`: for a fan-out that
    /// could not even set itself up (no event loop, no runtime).
    pub fn all_failed(&self, error: &crate::FetchError) -> Vec<crate::ConnectionResult> {
        (0..self.len())
            .map(|id| crate::ConnectionResult::failed_at_start(self.clock, id, error))
            .collect()
    }

    /// A fresh response check with this workload's body limit.
    pub fn response_check(&self) -> ResponseCheck {
        ResponseCheck::new(self.body_limit)
    }
}
