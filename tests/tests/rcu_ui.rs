//! Compile-fail tests of the rcu crate's pointer and guard types.
//!
//! Bless changed messages with `TRYBUILD=overwrite cargo test -p tests --test rcu_ui`,
//! then read each `.stderr` as a user would.

#[test]
fn rcu_ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/rcu/*.rs");
}
