//! Compile-fail cases for `rcu::RcuList`: misuse that the type system must reject.
//!
//! Each case must fail to build with the error output stored next to it. After an
//! intended change to an error message, bless the new output with
//! `TRYBUILD=overwrite cargo test -p tests --test list_ui` and reread each changed
//! `.stderr` file.

#[test]
fn list_ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/list/*.rs");
}
