//! Compile-fail and compile-pass tests of the `#[traced]` attribute.
//!
//! Every misuse in `tests/ui/fail/` must be rejected with the message and span recorded in its
//! `.stderr` snapshot, and with the item still emitted so that no follow-up error appears.
//! Every case in `tests/ui/pass/` must compile and run.
//!
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test --test ui`, then read them.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
