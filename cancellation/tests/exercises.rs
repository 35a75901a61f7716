//! The cancellation chapter's exercise 1, solved and checked: a reader of length-prefixed
//! frames that is cancel safe, raced against a tick while the peer sends each frame in pieces.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::pin::pin;
use std::thread;
use std::time::Duration;

use futures::future::{Either, select};
use step05_futures::net::TcpStream;
use step05_futures::time::sleep;

// ANCHOR: frames
/// Reads frames: a 4-byte big-endian length, then that many bytes.
struct FrameReader {
    stream: TcpStream,
    /// Bytes read and not yet returned in a frame.
    buf: Vec<u8>,
}

impl FrameReader {
    /// The next frame, `None` at the end of the stream. Cancel safe, as `LineReader::next_line`
    /// is: its one `.await` is the read, and everything read before is in `self.buf`.
    async fn next_frame(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if self.buf.len() >= 4 {
                let len = u32::from_be_bytes(self.buf[..4].try_into().expect("four bytes"));
                let end = 4 + len as usize;
                if self.buf.len() >= end {
                    let frame = self.buf[4..end].to_vec();
                    self.buf.drain(..end);
                    return Ok(Some(frame));
                }
            }
            let mut chunk = [0u8; 1024];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}
// ANCHOR_END: frames

/// A peer that sends `frames`, each cut into three pieces (inside the length, inside the
/// body), 30 ms apart.
fn frames_in_pieces(
    frames: &[&'static [u8]],
) -> io::Result<(SocketAddr, thread::JoinHandle<io::Result<()>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let frames: Vec<&'static [u8]> = frames.to_vec();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept()?;
        for frame in frames {
            let mut bytes = (frame.len() as u32).to_be_bytes().to_vec();
            bytes.extend_from_slice(frame);
            let cuts = [2, 4 + frame.len() / 2];
            let pieces = [
                &bytes[..cuts[0]],
                &bytes[cuts[0]..cuts[1]],
                &bytes[cuts[1]..],
            ];
            for piece in pieces {
                stream.write_all(piece)?;
                thread::sleep(Duration::from_millis(30));
            }
        }
        Ok(())
    });
    Ok((addr, server))
}

/// Raced against a 10 ms tick that wins many times while frames are half there, the reader
/// returns every frame whole and in order.
#[test]
fn the_frame_reader_is_cancel_safe() {
    let sent: [&'static [u8]; 3] = [b"hello", b"", b"a longer frame, with more in it"];
    let (addr, server) = frames_in_pieces(&sent).expect("start the peer");
    let (frames, ticks) = step05_futures::block_on(async move {
        let mut reader = FrameReader {
            stream: TcpStream::connect(addr).await?,
            buf: Vec::new(),
        };
        let (mut frames, mut ticks) = (Vec::new(), 0);
        loop {
            let frame = pin!(reader.next_frame());
            let tick = pin!(sleep(Duration::from_millis(10)));
            match select(frame, tick).await {
                Either::Left((frame, _)) => match frame? {
                    Some(frame) => frames.push(frame),
                    None => return io::Result::Ok((frames, ticks)),
                },
                Either::Right(((), _frame)) => ticks += 1,
            }
        }
    })
    .expect("read to the end");
    server
        .join()
        .expect("no panic")
        .expect("the peer sends everything");
    assert_eq!(
        frames,
        sent.map(<[u8]>::to_vec),
        "every frame whole, in order"
    );
    assert!(ticks > 0, "though the tick won races");
}
