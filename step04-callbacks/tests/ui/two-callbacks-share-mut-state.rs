// Two callbacks that both want to change the same counter: each would need its own `&mut`
// to it, for as long as the loop keeps the callback. The fix is shared ownership with checked
// borrowing: Rc<RefCell<u32>> (or Rc<Cell<u32>>), one clone per callback.
use step04_callbacks::IoLoop;

fn main() {
    let io_loop = IoLoop::new().unwrap();
    let mut count = 0;
    io_loop.call_soon(|_| count += 1);
    io_loop.call_soon(|_| count += 1);
    io_loop.run().unwrap();
    println!("{count}");
}
