//! What the compiler refuses about tasks that may move between threads: each case in
//! `tests/ui/` must fail to compile with the error in its `.stderr`. Regenerate with
//! `TRYBUILD=overwrite`, then read the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
