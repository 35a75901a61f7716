//! `write_all` cut by a timeout: the peer gets part of the message, and the sender cannot say
//! how much, since the count was in the future that was dropped. The fix keeps the count
//! outside the future: each `write` is cancel safe (dropped, it wrote nothing), and what it
//! wrote is added up before the next `.await`.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use step05_futures::net::TcpStream;
use step06_async_await::timeout::timeout;

/// What the sender knows after its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Whether the deadline cut the sending short.
    pub cut: bool,
    /// How many bytes the kernel took, if the sender knows.
    pub known: Option<u64>,
}

// ANCHOR: write_all_cut
/// Sends `data` with `write_all`, within `limit`, then closes. **Not cancel safe**: cut by the
/// deadline, `write_all` has sent part of `data`, and its count is gone with it.
pub async fn write_all_cut(addr: SocketAddr, data: &[u8], limit: Duration) -> io::Result<Sent> {
    let mut stream = TcpStream::connect(addr).await?;
    let cut = timeout(limit, stream.write_all(data)).await.is_err();
    Ok(Sent { cut, known: None })
}
// ANCHOR_END: write_all_cut

// ANCHOR: write_counted
/// The same, one `write` at a time, counting outside the future that the deadline drops.
pub async fn write_counted(addr: SocketAddr, data: &[u8], limit: Duration) -> io::Result<Sent> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut sent = 0;
    let sending = async {
        while sent < data.len() {
            // Cancel safe: dropped while it waits, it has written nothing.
            let n = poll_fn(|cx| stream.poll_write(cx, &data[sent..])).await?;
            sent += n; // counted before the next `.await`, where a cut may come
        }
        io::Result::Ok(())
    };
    let cut = match timeout(limit, sending).await {
        Ok(done) => {
            done?;
            false
        }
        Err(_elapsed) => true,
    };
    Ok(Sent {
        cut,
        known: Some(sent as u64),
    })
}
// ANCHOR_END: write_counted

// ANCHOR: on_tokio
/// Both on tokio: its `write_all` is documented as not cancel safe, its `write` as cancel
/// safe.
pub async fn on_tokio(
    addr: SocketAddr,
    data: &[u8],
    limit: Duration,
    counted: bool,
) -> io::Result<Sent> {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    if !counted {
        let cut = tokio::time::timeout(limit, stream.write_all(data))
            .await
            .is_err();
        return Ok(Sent { cut, known: None });
    }
    let mut sent = 0;
    let sending = async {
        while sent < data.len() {
            sent += stream.write(&data[sent..]).await?;
        }
        io::Result::Ok(())
    };
    let cut = match tokio::time::timeout(limit, sending).await {
        Ok(done) => {
            done?;
            false
        }
        Err(_elapsed) => true,
    };
    Ok(Sent {
        cut,
        known: Some(sent as u64),
    })
}
// ANCHOR_END: on_tokio
