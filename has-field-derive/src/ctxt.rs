//! Error collection, so that one run of the derive reports every mistake in its input.

use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// The errors found so far, combined into one `syn::Error` as they arrive.
#[derive(Default)]
pub struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Records an error spanned at `tokens`, which may cover several tokens.
    pub fn error_spanned_by<T: ToTokens, M: Display>(&mut self, tokens: T, message: M) {
        self.push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error that already carries its span.
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Returns the `compile_error!` invocations for every recorded error, or `None` when
    /// there were none.
    pub fn into_compile_errors(self) -> Option<TokenStream> {
        self.combined.map(|error| error.into_compile_error())
    }
}
