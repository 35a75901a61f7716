//! Ownership errors the compiler finds in callback code: each case in `tests/ui/` must fail to
//! compile with the error in its `.stderr`. Regenerate with `TRYBUILD=overwrite`, then read the
//! diff before committing.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
