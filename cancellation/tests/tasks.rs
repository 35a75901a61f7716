//! Dropping a `JoinHandle` detaches the task: it runs to its end. `abort` cancels it: its
//! future is dropped at the `.await` where it waits, its destructors run, and none of its code
//! after that `.await`. On our runtime the drop happens inside `abort`; on tokio, when the
//! runtime next gets to the task, and its handle then says "cancelled".

#[test]
fn ours_detaches_on_drop_and_drops_at_once_on_abort() {
    assert_eq!(
        cancellation::tasks::ours(),
        [
            "detached: started, waiting 30 ms",
            "aborted: started, waiting 30 ms",
            "main: abort",
            "aborted: dropped, its destructors ran",
            "main: abort returned",
            "detached: woke up, finished",
            "detached: dropped, its destructors ran",
        ]
    );
}

#[test]
fn tokio_detaches_on_drop_and_drops_later_on_abort() {
    assert_eq!(
        cancellation::tasks::on_tokio(),
        [
            "detached: started, waiting 30 ms",
            "aborted: started, waiting 30 ms",
            "main: abort",
            "main: abort returned",
            "aborted: dropped, its destructors ran",
            "main: its handle says: cancelled",
            "detached: woke up, finished",
            "detached: dropped, its destructors ran",
        ]
    );
}
