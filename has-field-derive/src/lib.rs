//! Implementation detail of the `has-field` crate: the `#[derive(HasField)]` macro.
//!
//! Use it through `has_field::HasField`, which re-exports it next to the trait it
//! implements and documents both. This crate's interface may change in any release.
//!
//! The derive runs in three steps, one module each: `ast` builds a typed view of the
//! input and parses its attributes with `attr`, `valid` checks the rules that keep the
//! generated impls sound and unambiguous, and `expand` writes the impls.

#![forbid(unsafe_code)]

mod ast;
mod attr;
mod crate_path;
mod ctxt;
mod expand;
mod overlap;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `HasField` for every field marked `#[field]`.
///
/// The documentation of `has_field::HasField` describes the attributes, the generated
/// code and the rejected inputs.
#[proc_macro_derive(HasField, attributes(field, has_field))]
pub fn derive_has_field(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
