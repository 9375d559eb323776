//! Parsing of the derive's attributes: `#[has_field(...)]` and `#[repr(...)]` on the
//! struct, `#[field]` on its fields.

use proc_macro2::{Delimiter, Ident, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Attribute, LitStr, Meta, Token};

use crate::ctxt::Errors;

const CRATE_USAGE: &str = "#[has_field(crate = \"path::to::has_field\")]";

/// Settings from the struct's own attributes.
pub struct Container {
    /// The path that generated code uses for the `has_field` crate, from
    /// `#[has_field(crate = "...")]`.
    pub crate_path: Option<syn::Path>,
    /// Whether a `#[has_field(...)]` attribute was invalid. Fallback impls would then name
    /// a path the user did not mean, so none are emitted.
    pub crate_path_invalid: bool,
    /// The `packed` token of a `#[repr(packed)]` or `#[repr(packed(N))]`, with the whole
    /// attribute as written for the message.
    pub packed: Option<(Ident, String)>,
}

/// Settings from the attributes of one field.
pub struct Field<'a> {
    /// The first `#[field]` attribute, also when it was malformed, so that the fallback
    /// still emits the impl the user meant.
    pub marker: Option<&'a Attribute>,
}

/// Parses the attributes of the struct, recording every misuse in `errors`.
pub fn container(attrs: &[Attribute], errors: &mut Errors) -> Container {
    let mut container = Container {
        crate_path: None,
        crate_path_invalid: false,
        packed: None,
    };

    for attr in attrs {
        if attr.path().is_ident("has_field") {
            if let Err(error) = parse_has_field(attr, &mut container) {
                container.crate_path_invalid = true;
                errors.push(error);
            }
        } else if attr.path().is_ident("field") {
            errors.error_spanned_by(
                attr,
                format!(
                    "`{}` belongs on a field, not on the struct: move it to the field that \
                     `HasField` should expose",
                    written(attr)
                ),
            );
        } else if attr.path().is_ident("repr") {
            if let Meta::List(list) = &attr.meta {
                if let Some(packed) = find_packed(list.tokens.clone()) {
                    container.packed = Some((packed, written(attr)));
                }
            }
        }
    }

    container
}

/// Parses the attributes of one field, recording every misuse in `errors`.
pub fn field<'a>(attrs: &'a [Attribute], errors: &mut Errors) -> Field<'a> {
    let mut field = Field { marker: None };

    for attr in attrs {
        if attr.path().is_ident("field") {
            match &attr.meta {
                Meta::Path(_) => {}
                Meta::List(_) => errors.error_spanned_by(
                    attr,
                    format!(
                        "`#[field]` takes no arguments: write `#[field]` instead of `{}`",
                        written(attr)
                    ),
                ),
                Meta::NameValue(_) => errors.error_spanned_by(
                    attr,
                    format!(
                        "`#[field]` takes no value: write `#[field]` instead of `{}`",
                        written(attr)
                    ),
                ),
            }
            if field.marker.is_some() {
                errors.error_spanned_by(
                    attr,
                    format!(
                        "`{}` is repeated on one field: remove it, one `#[field]` per field \
                         is enough",
                        written(attr)
                    ),
                );
            } else {
                field.marker = Some(attr);
            }
        } else if attr.path().is_ident("has_field") {
            errors.error_spanned_by(
                attr,
                format!(
                    "`{}` belongs on the struct, not on a field: move it above `struct`",
                    written(attr)
                ),
            );
        }
    }

    field
}

fn parse_has_field(attr: &Attribute, container: &mut Container) -> syn::Result<()> {
    let list = match &attr.meta {
        Meta::List(list) if !list.tokens.is_empty() => list,
        _ => {
            return Err(syn::Error::new_spanned(
                attr,
                format!(
                    "`{}` is missing its argument: write `{CRATE_USAGE}`",
                    written(attr)
                ),
            ));
        }
    };

    list.parse_nested_meta(|meta| {
        if !meta.path.is_ident("crate") {
            return Err(meta.error(format!(
                "unknown argument `{}` in `{}`: the only argument is `crate`, as in \
                 `{CRATE_USAGE}`",
                written(&meta.path),
                written(attr)
            )));
        }

        if !meta.input.peek(Token![=]) {
            return Err(meta.error(format!(
                "`crate` in `{}` is missing its value: write `{CRATE_USAGE}`",
                written(attr)
            )));
        }
        let value = meta.value()?;
        if !value.peek(LitStr) {
            let found: TokenTree = value.parse()?;
            return Err(syn::Error::new_spanned(
                &found,
                format!(
                    "the value of `crate` must be a path in a string literal: write \
                     `crate = \"{}\"`",
                    written(&found)
                ),
            ));
        }
        let literal: LitStr = value.parse()?;

        if container.crate_path.is_some() {
            return Err(syn::Error::new_spanned(
                &literal,
                "`crate` is given twice in `#[has_field(...)]`: keep one of the two",
            ));
        }
        let path = literal.parse::<syn::Path>().map_err(|_| {
            syn::Error::new_spanned(
                &literal,
                format!(
                    "`{}` is not a path: write the path under which the `has_field` crate \
                     is reachable, as in `{CRATE_USAGE}`",
                    literal.value()
                ),
            )
        })?;
        container.crate_path = Some(path);
        Ok(())
    })
}

/// Finds `packed` among the arguments of a `repr` attribute. Tokens that come from a
/// `macro_rules!` fragment such as `$repr:meta` may arrive wrapped in invisible groups, so
/// the search looks inside those, but not inside `align(...)` or other visible groups.
fn find_packed(tokens: TokenStream) -> Option<Ident> {
    tokens.into_iter().find_map(|token| match token {
        TokenTree::Ident(ident) if ident == "packed" => Some(ident),
        TokenTree::Group(group) if group.delimiter() == Delimiter::None => {
            find_packed(group.stream())
        }
        _ => None,
    })
}

/// Prints `tokens` the way people write them, for quoting in a message: no space inside
/// brackets or around `::`, a space after commas and semicolons and around `=`.
pub fn written<T: ToTokens>(tokens: &T) -> String {
    let mut text = String::new();
    write_tokens(tokens.to_token_stream(), &mut text);
    text
}

/// Returns the opening and closing text of a group's delimiter; empty for an invisible
/// group, which macros use to keep a captured fragment together.
pub(crate) fn delimiter_text(delimiter: Delimiter) -> (&'static str, &'static str) {
    match delimiter {
        Delimiter::Parenthesis => ("(", ")"),
        Delimiter::Bracket => ("[", "]"),
        Delimiter::Brace => ("{", "}"),
        Delimiter::None => ("", ""),
    }
}

fn write_tokens(tokens: TokenStream, text: &mut String) {
    let mut after_word = false;
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = delimiter_text(group.delimiter());
                // `mut [u8]` takes a space before the bracket, `repr(C)` none before the
                // parenthesis.
                if after_word && matches!(group.delimiter(), Delimiter::Bracket | Delimiter::Brace)
                {
                    text.push(' ');
                }
                text.push_str(open);
                write_tokens(group.stream(), text);
                text.push_str(close);
                after_word = close.is_empty();
            }
            TokenTree::Ident(_) | TokenTree::Literal(_) => {
                if after_word {
                    text.push(' ');
                }
                text.push_str(&token.to_string());
                after_word = true;
            }
            TokenTree::Punct(punct) => {
                match punct.as_char() {
                    ',' | ';' => {
                        text.push(punct.as_char());
                        text.push(' ');
                    }
                    '=' | '+' if punct.spacing() == Spacing::Alone => {
                        text.push(' ');
                        text.push(punct.as_char());
                        text.push(' ');
                    }
                    other => text.push(other),
                }
                after_word = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use syn::{Attribute, Type, parse_quote};

    use super::written;

    #[test]
    fn written_attributes_read_as_typed() {
        let cases: [(Attribute, &str); 4] = [
            (parse_quote!(#[field(x)]), "#[field(x)]"),
            (parse_quote!(#[field = 3]), "#[field = 3]"),
            (parse_quote!(#[repr(C, packed(2))]), "#[repr(C, packed(2))]"),
            (
                parse_quote!(#[has_field(crate = "::rcu::has_field")]),
                "#[has_field(crate = \"::rcu::has_field\")]",
            ),
        ];
        for (attr, expected) in cases {
            assert_eq!(written(&attr), expected);
        }
    }

    #[test]
    fn written_types_read_as_typed() {
        let cases: [(Type, &str); 3] = [
            (parse_quote!(Link<1>), "Link<1>"),
            (parse_quote!(&'a mut [u8; 4]), "&'a mut [u8; 4]"),
            (
                parse_quote!(crate::list::Link<Self>),
                "crate::list::Link<Self>",
            ),
        ];
        for (ty, expected) in cases {
            assert_eq!(written(&ty), expected);
        }
    }
}
