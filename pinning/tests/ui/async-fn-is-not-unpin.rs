// Every `async fn`'s future is `!Unpin`, even one that keeps no reference across its `.await`:
// the compiler does not look. A function that asks for `Unpin` refuses it.
use std::future::Future;

fn needs_unpin(_future: impl Future + Unpin) {}

fn main() {
    needs_unpin(pinning::sizes::holds_a_copy());
}
