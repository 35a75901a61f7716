//! The background reactor starts on first use only, and forgets every socket that is dropped.
//! (One test in its own binary: the reactor is per process, so other tests would disturb the
//! counts.)

use futures::io::{AsyncReadExt, AsyncWriteExt};
use interop::background::{self, TcpStream};

#[test]
fn starts_lazily_and_deregisters_on_drop() {
    assert!(!background::started(), "nothing has needed it yet");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    futures::executor::block_on(async {
        let mut streams = Vec::new();
        for _ in 0..50 {
            streams.push(TcpStream::connect(addr).await.unwrap());
        }
        assert!(background::started());
        assert_eq!(background::registrations(), 50);
        // Dropping half, and a write-and-read on one of the others, in between.
        streams.truncate(25);
        assert_eq!(background::registrations(), 25);
        let (mut accepted, _) = listener.accept().unwrap();
        streams[0].write_all(b"x").await.unwrap();
        let mut byte = [0u8; 1];
        std::io::Read::read_exact(&mut accepted, &mut byte).unwrap();
        std::io::Write::write_all(&mut accepted, b"y").unwrap();
        streams[0].read_exact(&mut byte).await.unwrap();
        assert_eq!(&byte, b"y");
    });
    assert_eq!(
        background::registrations(),
        0,
        "every dropped stream deregistered"
    );
}
