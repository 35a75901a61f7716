//! The production reference: the same fan-out, and an echo server, on tokio (one thread).
//!
//! This is what the steps are measured against: a mature runtime doing the same job. Step 6
//! puts its own runtime and tokio side by side as a lesson; here tokio is only a yardstick.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use testbed::{ConnectionRecord, ConnectionResult, FetchError, Stage, Target, Workload};

/// The fan-out: one tokio task per connection on a single-threaded runtime.
pub fn fan_out(workload: &Workload) -> Vec<ConnectionResult> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return workload.all_failed(&FetchError::Setup(format!("cannot start tokio: {e}")));
        }
    };
    runtime.block_on(async {
        let tasks: Vec<_> = (0..workload.len())
            .map(|id| {
                let (record, target, check) = (
                    workload.record(id),
                    workload.targets[id].clone(),
                    workload.response_check(),
                );
                tokio::spawn(fetch(record, target, check))
            })
            .collect();
        let mut results = Vec::with_capacity(tasks.len());
        for (id, task) in tasks.into_iter().enumerate() {
            results.push(task.await.unwrap_or_else(|_| {
                let why = FetchError::Setup("the connection's task panicked".into());
                ConnectionResult::failed_at_start(workload.clock, id, &why)
            }));
        }
        results
    })
}

/// One connection, within its deadline.
async fn fetch(
    mut record: ConnectionRecord,
    target: Target,
    check: testbed::ResponseCheck,
) -> ConnectionResult {
    let timeout = record
        .deadline()
        .saturating_duration_since(std::time::Instant::now());
    let outcome = match tokio::time::timeout(timeout, exchange(&mut record, &target, check)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(record.timed_out(record.stage_reached())),
    };
    record.finish(outcome)
}

/// Connect, send, read to end-of-file, check.
async fn exchange(
    record: &mut ConnectionRecord,
    target: &Target,
    mut check: testbed::ResponseCheck,
) -> Result<(), FetchError> {
    let mut stream = TcpStream::connect(target.addr)
        .await
        .map_err(|e| FetchError::io(Stage::Connect, e))?;
    record.connected();
    stream
        .write_all(&target.request())
        .await
        .map_err(|e| FetchError::io(Stage::Write, e))?;
    record.written();
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| FetchError::io(Stage::Read, e))?;
        if n == 0 {
            break;
        }
        record.received(n);
        check.feed(&buf[..n])?;
    }
    check.finish()?;
    Ok(())
}

/// Echoes every byte back, on every connection, until the process ends. Announces itself with
/// `listening on HOST:PORT`, like every server in the workspace.
pub fn echo_server(addr: std::net::SocketAddr) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::from_std(testbed::server::listen(addr, 8192)?)?;
        crate::echo::announce(listener.local_addr()?)?;
        loop {
            let (mut stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                // Out of descriptors or a client that left: wait a little, go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            tokio::spawn(async move {
                let (mut reader, mut writer) = stream.split();
                let _ = tokio::io::copy(&mut reader, &mut writer).await;
            });
        }
    })
}
