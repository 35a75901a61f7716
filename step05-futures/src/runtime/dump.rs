//! A task dump: every live task of the runtime, what it is doing, for how long, and what holds
//! its waker. The first question about a program that hangs is "what is everyone waiting for?",
//! and in an async program a debugger's list of threads cannot answer it: there is one thread,
//! asleep in `epoll_wait`. The runtime can: it knows its tasks, and the reactor knows whose
//! wakers it keeps, for which socket or timer. A task waiting with its waker held by nothing in
//! the reactor waits for another task: an `Event`, a lock, a `JoinHandle`, a channel. If no
//! task will ever wake it, that is the hang.

use std::fmt::Write as _;

use crate::executor::{TaskState, tasks};
use crate::reactor::Reactor;

// ANCHOR: dump
/// The dump of the runtime running on this thread, one line per spawned task (call it from a
/// task, or anywhere inside `block_on`).
pub fn dump() -> String {
    let tasks = tasks();
    let reactor = Reactor::try_current();
    let mut out = format!("task dump: {} live tasks\n", tasks.len());
    for task in &tasks {
        let held = reactor
            .as_ref()
            .map(|reactor| reactor.borrow().holding(&task.waker))
            .unwrap_or_default();
        let on = match task.state {
            TaskState::Running => "(this is the task printing the dump)".to_string(),
            TaskState::Queued => "(woken: its turn comes)".to_string(),
            TaskState::Waiting if held.is_empty() => {
                "on nothing the reactor holds: another task must wake it \
                 (an Event, a lock, a JoinHandle, a channel)"
                    .to_string()
            }
            TaskState::Waiting => format!("on {}", held.join(", ")),
        };
        let _ = writeln!(
            out,
            "  task {:<3} {:<8} {:>4} polls, idle {:>8.1} ms  {on}",
            task.number,
            format!("{:?}", task.state).to_lowercase(),
            task.polls,
            task.idle.as_secs_f64() * 1e3,
        );
    }
    out
}
// ANCHOR_END: dump
