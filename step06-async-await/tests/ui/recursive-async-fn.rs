// An async fn is a state machine that contains, as a field, the state machine of every async
// fn it awaits. One that awaits itself would contain itself: a type of infinite size. Boxing
// the recursive call (`Box::pin(countdown(n - 1)).await`) puts the inner machine on the heap,
// behind a pointer of fixed size.
async fn countdown(n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    countdown(n - 1).await + 1
}

fn main() {
    let _ = step05_futures::block_on(countdown(3));
}
