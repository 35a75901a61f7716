//! A task is cancelled only by its runtime. Dropping its `JoinHandle` does not stop it (the
//! task is *detached*: it runs on, and its output is thrown away); `abort` does, and the task
//! sees it as its future being dropped at the `.await` where it waits: its destructors run,
//! and none of its code after that `.await`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use step05_futures::spawn;
use step05_futures::time::sleep;

/// How long each task waits before it finishes.
const WAIT: Duration = Duration::from_millis(30);

/// Notes its drop in the log: the task's destructors running.
struct Guard<L: Fn(String)> {
    name: &'static str,
    note: L,
}

impl<L: Fn(String)> Drop for Guard<L> {
    fn drop(&mut self) {
        (self.note)(format!("{}: dropped, its destructors ran", self.name));
    }
}

// ANCHOR: ours
/// On our runtime: one task detached (its handle dropped), one aborted while it waits.
/// Returns what happened, in order.
pub fn ours() -> Vec<String> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let task = |name: &'static str| {
        let log = Rc::clone(&log);
        async move {
            let note = move |line: String| log.borrow_mut().push(line);
            let guard = Guard { name, note };
            (guard.note)(format!("{name}: started, waiting {} ms", WAIT.as_millis()));
            sleep(WAIT).await;
            (guard.note)(format!("{name}: woke up, finished"));
        }
    };
    step05_futures::block_on(async {
        drop(spawn(task("detached"))); // dropping the handle: the task runs on
        let aborted = spawn(task("aborted"));
        sleep(Duration::from_millis(10)).await;
        log.borrow_mut().push("main: abort".into());
        aborted.abort(); // its future is dropped here, at its `.await`
        log.borrow_mut().push("main: abort returned".into());
        sleep(WAIT * 2).await;
    });
    log.take()
}
// ANCHOR_END: ours

// ANCHOR: on_tokio
/// The same on tokio: `abort` marks the task, and the runtime drops it when it next gets to
/// it; awaiting the handle of an aborted task gives a `JoinError` that `is_cancelled`.
pub fn on_tokio() -> Vec<String> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let note = |log: &Arc<Mutex<Vec<String>>>, line: String| {
        log.lock()
            .expect("the log's lock is never poisoned")
            .push(line);
    };
    let task = |name: &'static str| {
        let log = Arc::clone(&log);
        async move {
            let guard = Guard {
                name,
                note: move |line| note(&log, line),
            };
            (guard.note)(format!("{name}: started, waiting {} ms", WAIT.as_millis()));
            tokio::time::sleep(WAIT).await;
            (guard.note)(format!("{name}: woke up, finished"));
        }
    };
    let runtime = crate::tokio_runtime();
    runtime.block_on(async {
        drop(tokio::spawn(task("detached")));
        let aborted = tokio::spawn(task("aborted"));
        tokio::time::sleep(Duration::from_millis(10)).await;
        note(&log, "main: abort".into());
        aborted.abort();
        note(&log, "main: abort returned".into());
        match aborted.await {
            Err(e) if e.is_cancelled() => note(&log, "main: its handle says: cancelled".into()),
            other => note(&log, format!("main: its handle says: {other:?}")),
        }
        tokio::time::sleep(WAIT * 2).await;
    });
    log.lock()
        .expect("the log's lock is never poisoned")
        .clone()
}
// ANCHOR_END: on_tokio
