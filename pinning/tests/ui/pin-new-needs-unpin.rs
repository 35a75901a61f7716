// `Pin::new` is the safe way to pin, and only for types that do not care: `Unpin` ones. For
// the `Pinned` greeting it is refused; `pin!` or `Box::pin` must be used, which make sure the
// value can never be reached unpinned again.
use std::pin::Pin;

use pinning::greeting::Pinned;

fn main() {
    let mut greeting = Pinned::new();
    let _pinned = Pin::new(&mut greeting);
}
