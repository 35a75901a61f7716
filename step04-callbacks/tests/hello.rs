//! The talk's Tornado server, run as the step's binary: 1,000 concurrent clients are each
//! greeted with exactly "Hello\n", then closed.

use std::process::Command;

use testbed::ChildServer;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

fn server(subcommand: &str) -> ChildServer {
    let mut command = Command::new(env!("CARGO_BIN_EXE_step04-callbacks"));
    command.arg(subcommand);
    ChildServer::start(command).expect("start the server")
}

/// Every one of 1,000 concurrent clients is greeted with exactly "Hello\n", then closed.
#[test]
fn hello_greets_a_thousand_clients() {
    let server = server("hello-server");
    let addr = server.addr();
    testbed::limits::ensure_open_files(testbed::limits::needed_for(1000))
        .expect("room for the clients");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let greetings = runtime.block_on(async move {
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                tokio::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.expect("connect");
                    let mut greeting = Vec::new();
                    stream
                        .read_to_end(&mut greeting)
                        .await
                        .expect("read to EOF");
                    greeting
                })
            })
            .collect();
        let mut greetings = Vec::new();
        for task in tasks {
            greetings.push(task.await.unwrap());
        }
        greetings
    });
    assert!(greetings.iter().all(|g| g == b"Hello\n"));
}
