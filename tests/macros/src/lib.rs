//! Procedural macros for the test suites.
//!
//! `#[derive(HasField)]` rejects every `#[repr(packed)]` it can read. An attribute macro
//! written below the derive runs after it, so it can make a struct packed where the
//! derive never sees it. [`macro@pack_after_derive`] does exactly that, so the suites can
//! check that the derive's fallback guard still stops the build.

use proc_macro::TokenStream;

/// Adds `#[repr(packed)]` to the item it is placed on.
///
/// Written below `#[derive(HasField)]`, it is expanded after the derive has run.
#[proc_macro_attribute]
pub fn pack_after_derive(args: TokenStream, item: TokenStream) -> TokenStream {
    if !args.is_empty() {
        return r#"compile_error!("`pack_after_derive` takes no arguments");"#
            .parse()
            .expect("a fixed, valid token stream");
    }
    let mut packed: TokenStream = "#[repr(packed)]"
        .parse()
        .expect("a fixed, valid token stream");
    packed.extend(item);
    packed
}
