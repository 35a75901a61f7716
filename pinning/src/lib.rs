//! # Why futures are pinned
//!
//! A future may point into itself: an `async fn` that keeps a reference across an `.await`
//! compiles to a state machine holding both the value and the reference. Move it between two
//! polls, and the reference points at the place it left. This crate shows that with a future
//! small enough to read ([`greeting`]): moved after its first poll, it writes into the wrong
//! place ([`moved`], and Miri stops the run there); with `PhantomPinned`, the move does not
//! compile (`tests/ui/`). Then projection ([`project`]) and what `async fn` generates
//! ([`sizes`]).
//!
//! | module | what it holds |
//! |---|---|
//! | [`greeting`] | `Greeting<P>`: a future with a pointer into its own buffer, `Unpin` or not |
//! | [`moved`] | moving it between polls: unpinned (wrong), pinned with `pin!` or `Box::pin` |
//! | [`project`] | `Counted<F>`: a field structurally pinned, one not, with `pin-project-lite` |
//! | [`sizes`] | two `async fn`s, and every future's size and `Unpin`-ness |
//! | [`figure`] | the picture of the move, at a real run's addresses |
//!
//! ```text
//! cargo run -p pinning -- unpinned
//! cargo run -p pinning -- pinned
//! cargo run -p pinning -- sizes
//! cargo +nightly miri run -p pinning -- unpinned
//! ```

pub mod figure;
pub mod greeting;
pub mod moved;
pub mod project;
pub mod sizes;
