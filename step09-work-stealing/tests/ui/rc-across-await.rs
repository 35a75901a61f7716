// On step 9's runtime a task may be polled by one worker before an `.await` and by another
// after it, so its future must be `Send`: everything it keeps across an `.await` must be
// allowed to move to another thread. An `Rc` is not (its count is not atomic), so `spawn`
// refuses the task, and the error points at the `.await` the `Rc` lives across. (Step 6's
// fan-out shared its semaphore through an `Rc`; step 9's uses an `Arc`.)
use std::rc::Rc;
use std::time::Duration;

use step09_work_stealing::runtime::time::sleep;
use step09_work_stealing::{Runtime, spawn};

fn main() {
    let runtime = Runtime::new(2).unwrap();
    runtime.block_on(async {
        spawn(async {
            let count = Rc::new(5);
            sleep(Duration::from_millis(1)).await;
            println!("{count}");
        })
        .await;
    });
}
