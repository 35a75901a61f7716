// A std MutexGuard held across an `.await`, in a task given to tokio::spawn. tokio may move a
// task to another thread at any `.await`, so the task must be `Send`; a std MutexGuard is not
// (a lock must be released by the thread that took it). Either drop the guard before the
// `.await` (a block around its use), or use an async mutex whose guard may cross awaits.
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
