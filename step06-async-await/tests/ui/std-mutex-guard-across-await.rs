// A std MutexGuard held across an `.await`, in a task given to tokio::spawn, which requires
// `Send` on any runtime (on a multi-threaded one a task may move at an `.await`). A std
// MutexGuard is not `Send`: a lock must be released by the thread that took it. Drop the
// guard before the `.await` (a block around its use), or use an async mutex.
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn count(counter: Arc<Mutex<u64>>) {
    let mut guard = counter.lock().unwrap();
    *guard += 1;
    tokio::time::sleep(Duration::from_millis(1)).await;
    *guard += 1;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let counter = Arc::new(Mutex::new(0));
        tokio::spawn(count(counter)).await.unwrap();
    });
}
