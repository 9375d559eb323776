//! Compile-pass and compile-fail suites for `#[derive(HasField)]`.
//!
//! Pass cases are built and run, and each checks its impls at run time. Fail cases must
//! fail to build with the error output stored next to them. After an intended change to
//! an error message, bless the new output with
//! `TRYBUILD=overwrite cargo test -p tests --test derive_ui` and reread each changed
//! `.stderr` file.

#[test]
fn derive_ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}
