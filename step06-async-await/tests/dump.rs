//! The task dump (`step05_futures::dump`): every live task, its state, and what holds its
//! waker. Three tasks stuck three ways: on a socket nobody writes to, on a long timer, and on
//! an `Event` nobody sets; the dump names the socket and the timer, and says the third waits
//! on nothing the reactor holds (another task must wake it: that is the hang).

use std::rc::Rc;
use std::time::Duration;

use step05_futures::dump::dump;
use step05_futures::net::TcpStream;
use step05_futures::time::sleep;
use step05_futures::{block_on, spawn};
use step06_async_await::sync::Event;

#[test]
fn the_dump_says_what_each_task_waits_on() {
    // A listener that accepts (in its backlog) and never writes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let text = block_on(async move {
        spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0u8; 16];
            let _ = stream.read(&mut buf).await;
        });
        spawn(sleep(Duration::from_secs(10)));
        let never = Rc::new(Event::new());
        spawn(async move { never.wait().await });
        // Let all three reach their wait, then look.
        sleep(Duration::from_millis(50)).await;
        dump()
    });
    drop(listener);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "task dump: 3 live tasks", "{text}");
    let task = |n: usize| {
        lines
            .iter()
            .find(|l| l.trim_start().starts_with(&format!("task {n} ")))
            .unwrap_or_else(|| panic!("no task {n} in\n{text}"))
    };
    assert!(
        task(0).contains("waiting") && task(0).contains("to be Read ready"),
        "{text}"
    );
    assert!(
        task(1).contains("waiting") && task(1).contains("on a timer, due in 99"),
        "{text}"
    );
    assert!(
        task(2).contains("waiting") && task(2).contains("on nothing the reactor holds"),
        "{text}"
    );
}

/// `--dump-after-ms` on the fan-out: the dump goes to stderr while the connections wait for
/// the server, each on its socket and its deadline; the report on stdout is unchanged.
#[test]
fn dump_after_ms_dumps_the_fan_out_while_it_waits() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_step06-async-await"))
        .args([
            "--connections",
            "3",
            "--delay-ms",
            "300",
            "--dump-after-ms",
            "100",
        ])
        .output()
        .expect("run the step 6 binary");
    assert!(output.status.success());
    let dump = String::from_utf8_lossy(&output.stderr);
    assert!(dump.starts_with("task dump: 4 live tasks\n"), "{dump}");
    assert_eq!(
        dump.matches("to be Read ready, a timer, due in").count(),
        3,
        "{dump}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok 3, failed 0"));
}
