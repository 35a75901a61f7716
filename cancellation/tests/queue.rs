//! A waiter for a held lock, cut by a timeout, that asks again: it is served last, though it
//! asked first (on ours and on tokio); and no permit leaks with the waiter that gave up.

#[test]
fn ours_a_waiter_that_gives_up_goes_to_the_back() {
    assert_eq!(cancellation::queue::ours(), ["b", "c", "a"]);
}

#[test]
fn tokio_a_waiter_that_gives_up_goes_to_the_back() {
    assert_eq!(cancellation::queue::on_tokio(), ["b", "c", "a"]);
}

#[test]
fn no_permit_leaks_with_a_waiter_that_gives_up() {
    assert_eq!(cancellation::queue::permits_left_after_a_cut(), 1);
}
