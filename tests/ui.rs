//! Compile-fail tests: every diagnostic of `#[grad]`, with its expected message.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
