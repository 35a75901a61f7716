//! The moves `Pin` refuses, refused by the compiler: each case in `tests/ui/` must fail to
//! compile with the error in its `.stderr` file.

#[test]
#[cfg_attr(miri, ignore)] // trybuild runs cargo, which Miri cannot
fn pin_refuses_the_move() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
