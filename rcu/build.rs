//! Builds the liburcu shim of the `compare` example when the `liburcu` feature is on.
//! Without the feature it does nothing, so a machine without liburcu builds the crate.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    #[cfg(feature = "liburcu")]
    build_liburcu_shim();
}

#[cfg(feature = "liburcu")]
fn build_liburcu_shim() {
    const SHIM: &str = "examples/compare/liburcu_shim.c";
    println!("cargo::rerun-if-changed={SHIM}");

    cc::Build::new().file(SHIM).compile("liburcu_shim_memb");
    cc::Build::new()
        .file(SHIM)
        .define("SHIM_FLAVOR_QSBR", None)
        .compile("liburcu_shim_qsbr");
    for library in ["urcu-memb", "urcu-qsbr", "urcu-common"] {
        println!("cargo::rustc-link-lib=dylib={library}");
    }
}
