//! The table of every task not finished yet, which shutdown needs: a task waiting on a socket
//! is held only by its own waker, kept in the socket's registration, which the task's future
//! holds: a cycle that only dropping the future breaks, and only this table can find it.
//!
//! Every spawn and every finish changes it, on different threads (a spawn on `block_on`'s,
//! a finish on a worker's), so it is cut into shards, each behind its own lock, and tasks are
//! spread over them in turn: two threads rarely want the same shard at the same moment. (One
//! mutex for the whole table made a thousand spawns and finishes wait on each other; tokio
//! shards its table the same way.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use slab::Slab;
use testbed::lock;

use super::task::Task;

/// How many shards.
const SHARDS: usize = 16;

/// A task's place in the table: its shard and its slot there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskKey {
    /// The shard.
    shard: usize,
    /// The slot in the shard.
    slot: usize,
}

/// The live tasks.
pub(crate) struct LiveTasks {
    /// The shards.
    shards: Vec<Mutex<Slab<Arc<Task>>>>,
    /// The shard the next task goes to (modulo the count).
    next: AtomicUsize,
}

impl Default for LiveTasks {
    fn default() -> LiveTasks {
        LiveTasks {
            shards: std::iter::repeat_with(Mutex::default)
                .take(SHARDS)
                .collect(),
            next: AtomicUsize::new(0),
        }
    }
}

impl LiveTasks {
    /// Adds the task `make` builds for its key, and returns it.
    pub(crate) fn insert(&self, make: impl FnOnce(TaskKey) -> Task) -> Arc<Task> {
        let shard = self.next.fetch_add(1, Ordering::Relaxed) % SHARDS;
        let mut slab = lock(&self.shards[shard]);
        let entry = slab.vacant_entry();
        let task = Arc::new(make(TaskKey {
            shard,
            slot: entry.key(),
        }));
        entry.insert(Arc::clone(&task));
        task
    }

    /// Removes a finished task.
    pub(crate) fn remove(&self, key: TaskKey) {
        let removed = lock(&self.shards[key.shard]).try_remove(key.slot);
        drop(removed); // after the lock
    }

    /// Takes every task out (shutdown).
    pub(crate) fn drain(&self) -> Vec<Arc<Task>> {
        self.shards
            .iter()
            .flat_map(|shard| lock(shard).drain().collect::<Vec<_>>())
            .collect()
    }

    /// How many tasks are live.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len()).sum()
    }
}
