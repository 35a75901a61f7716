// A callback runs later, from the loop, long after this function could have returned: it must
// own what it uses ('static). A borrow of a local is not enough.
use std::time::Duration;

use step04_callbacks::IoLoop;

fn main() {
    let io_loop = IoLoop::new().unwrap();
    let name = String::from("world");
    let greeting = &name;
    io_loop.call_later(Duration::from_millis(1), move |_| println!("hello, {greeting}"));
    io_loop.run().unwrap();
}
