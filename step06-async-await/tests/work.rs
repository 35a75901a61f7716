//! The work server's policies, on our runtime and on tokio: a burst of clients against a
//! server with room for a few jobs and one slow worker. Unbounded, the server holds every
//! client's job at once; waiting, it never holds more than its capacity and still answers
//! everyone; shedding, it holds no more than its capacity and answers the rest `busy` at once.
//! Every client gets exactly one answer, the right one for its request.

use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread;

/// Kills the server if the test fails half-way, so no process outlives it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the server said when it stopped.
#[derive(Debug)]
struct Stopped {
    served: usize,
    busy: usize,
    held: usize,
}

/// How many clients got `done N` and how many `busy`.
#[derive(Debug, PartialEq)]
struct Answers {
    done: usize,
    busy: usize,
}

const CLIENTS: usize = 12;
const CAPACITY: usize = 3;

/// Starts the server, sends `CLIENTS` requests of different lengths at once (one thread
/// each), waits for every answer, stops the server with SIGTERM and reads its counts.
fn burst(runtime: &str, policy: &str) -> (Answers, Stopped) {
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_step06-async-await"))
            .args(["work-server", "--addr", "127.0.0.1:0", "--policy", policy])
            .args(["--runtime", runtime, "--capacity", &CAPACITY.to_string()])
            .args(["--workers", "1", "--work-ms", "50"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the work server"),
    );
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let first = next_line(&mut lines);
    let addr = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let addr = addr.clone();
            thread::spawn(move || {
                let request = vec![b'x'; 1000 + i];
                let mut stream = TcpStream::connect(&addr).expect("connect");
                stream.write_all(&request).expect("send the request");
                stream.shutdown(Shutdown::Write).expect("close our side");
                let mut answer = String::new();
                stream.read_to_string(&mut answer).expect("read the answer");
                (request.len(), answer)
            })
        })
        .collect();
    let mut answers = Answers { done: 0, busy: 0 };
    for client in clients {
        let (sent, answer) = client.join().expect("a client panicked");
        if answer == "busy\n" {
            answers.busy += 1;
        } else {
            assert_eq!(
                answer,
                format!("done {sent}\n"),
                "the answer to its own request"
            );
            answers.done += 1;
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let last = next_line(&mut lines);
    assert!(server.0.wait().expect("wait").success(), "exits 0");
    (answers, parse(&last))
}

fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    lines.next().expect("a line").expect("readable")
}

/// `stopped: S served, B turned away busy; held at most H jobs, ...`
fn parse(line: &str) -> Stopped {
    let number_before = |word: &str| -> usize {
        let at = line
            .find(word)
            .unwrap_or_else(|| panic!("{word:?} in {line}"));
        let number = line[..at].split_whitespace().last().unwrap();
        number.parse().unwrap_or_else(|_| panic!("{line}"))
    };
    let held = line
        .split("held at most ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    Stopped {
        served: number_before(" served"),
        busy: number_before(" turned away"),
        held,
    }
}

fn unbounded_holds_every_job(runtime: &str) {
    let (answers, stopped) = burst(runtime, "unbounded");
    assert_eq!(
        answers,
        Answers {
            done: CLIENTS,
            busy: 0
        }
    );
    assert_eq!(stopped.served, CLIENTS);
    // One worker takes 50 ms a job: while it works on the first, the others all come in.
    assert!(stopped.held > CAPACITY, "{stopped:?}");
}

fn wait_holds_at_most_its_capacity_and_answers_everyone(runtime: &str) {
    let (answers, stopped) = burst(runtime, "wait");
    assert_eq!(
        answers,
        Answers {
            done: CLIENTS,
            busy: 0
        }
    );
    assert_eq!(stopped.served, CLIENTS);
    assert_eq!(stopped.held, CAPACITY, "{stopped:?}");
}

fn shed_holds_at_most_its_capacity_and_turns_the_rest_away(runtime: &str) {
    let (answers, stopped) = burst(runtime, "shed");
    assert_eq!(answers.done + answers.busy, CLIENTS);
    assert!(answers.done >= CAPACITY, "{answers:?}");
    assert!(answers.busy > 0, "{answers:?}");
    assert_eq!((stopped.served, stopped.busy), (answers.done, answers.busy));
    assert!(stopped.held <= CAPACITY, "{stopped:?}");
}

/// Our runtime, unbounded: it holds more jobs than the others' capacity.
#[test]
fn ours_unbounded_holds_every_job() {
    unbounded_holds_every_job("ours");
}

/// Our runtime, waiting: a `Semaphore` in front of `accept`.
#[test]
fn ours_wait_holds_at_most_its_capacity_and_answers_everyone() {
    wait_holds_at_most_its_capacity_and_answers_everyone("ours");
}

/// Our runtime, shedding: `try_acquire_owned`, and `busy` when there is no room.
#[test]
fn ours_shed_holds_at_most_its_capacity_and_turns_the_rest_away() {
    shed_holds_at_most_its_capacity_and_turns_the_rest_away("ours");
}

/// tokio, unbounded.
#[test]
fn tokio_unbounded_holds_every_job() {
    unbounded_holds_every_job("tokio");
}

/// tokio, waiting.
#[test]
fn tokio_wait_holds_at_most_its_capacity_and_answers_everyone() {
    wait_holds_at_most_its_capacity_and_answers_everyone("tokio");
}

/// tokio, shedding.
#[test]
fn tokio_shed_holds_at_most_its_capacity_and_turns_the_rest_away() {
    shed_holds_at_most_its_capacity_and_turns_the_rest_away("tokio");
}
