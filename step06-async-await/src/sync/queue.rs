//! A first-in, first-out queue between the tasks of one thread: `push` never waits, `pop`
//! waits for an item. It has no bound of its own: a bound is a [`Semaphore`] in front of it
//! (the work server's `room`), which is what lets a server choose what to do when it is full.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use super::Semaphore;

// ANCHOR: queue
/// Items in arrival order, and a count of them that tasks can wait on.
#[derive(Debug)]
pub struct Queue<T> {
    items: RefCell<VecDeque<T>>,
    /// One permit per item: a `pop` waits for a permit, as a task waits for a semaphore's,
    /// first come first served, and a `pop` that is dropped while it waits passes its wake on.
    count: Semaphore,
    /// The most items it has held at once.
    most: Cell<usize>,
}

impl<T> Queue<T> {
    /// An empty queue.
    pub fn new() -> Queue<T> {
        Queue {
            items: RefCell::new(VecDeque::new()),
            count: Semaphore::new(0),
            most: Cell::new(0),
        }
    }

    /// Adds an item at the back; never waits.
    pub fn push(&self, item: T) {
        let len = {
            let mut items = self.items.borrow_mut();
            items.push_back(item);
            items.len()
        };
        self.most.set(self.most.get().max(len));
        self.count.add_permits(1);
    }

    /// Waits for the item at the front and takes it. Cancel safe: an item is taken only when
    /// this returns.
    pub async fn pop(&self) -> T {
        // The permit is the right to one item: taking it for good is taking the item.
        self.count.acquire().await.forget();
        self.items
            .borrow_mut()
            .pop_front()
            .expect("one permit per item")
    }

    /// Items waiting now.
    pub fn len(&self) -> usize {
        self.items.borrow().len()
    }

    /// Whether no item is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most items it has held at once.
    pub fn most(&self) -> usize {
        self.most.get()
    }
}
// ANCHOR_END: queue

impl<T> Default for Queue<T> {
    fn default() -> Queue<T> {
        Queue::new()
    }
}
