//! The rules an input must follow before impls are emitted for it. Each rule exists
//! because breaking it would make an impl unsound, ambiguous, or rejected by the compiler
//! with an error about generated code instead of about the user's struct.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::{GenericParam, Type};

use crate::ast::{Container, Field};
use crate::attr::written;
use crate::ctxt::Errors;

/// Checks `container`, recording every violation in `errors`, and returns the marked
/// fields that may get an impl. When `errors` is not empty these are still emitted, as a
/// fallback that spares the user follow-on errors about missing impls.
pub fn check<'c, 'a>(container: &'c Container<'a>, errors: &mut Errors) -> Vec<&'c Field<'a>> {
    if let Some((packed, attr)) = &container.attrs.packed {
        errors.error_spanned_by(
            packed,
            format!(
                "`HasField` cannot expose fields of a packed struct, because they may be \
                 unaligned and intrusive code dereferences field pointers: remove `packed` \
                 from `{attr}`"
            ),
        );
    }

    let marked: Vec<&Field> = container.fields.iter().filter(|f| f.is_marked()).collect();
    if marked.is_empty() {
        errors.error_spanned_by(
            container.ident,
            "no field is marked `#[field]`: put `#[field]` on each field that `HasField` \
             should expose",
        );
    }

    let distinct = reject_same_types(container, marked, errors);
    reject_bare_type_parameters(container, distinct, errors)
}

/// `HasField<Self, F>` names a field by its type `F`, so two marked fields of one type
/// would need two impls of one trait. The compiler would report that as conflicting impls
/// in generated code. Types are compared as written, with `Self` read as the struct.
fn reject_same_types<'c, 'a>(
    container: &Container<'a>,
    marked: Vec<&'c Field<'a>>,
    errors: &mut Errors,
) -> Vec<&'c Field<'a>> {
    let ident = container.ident;
    let (_, ty_generics, _) = container.generics.split_for_impl();
    let self_key = type_key(quote!(#ident #ty_generics), "Self ");

    let mut distinct: Vec<(String, &Field)> = Vec::new();
    for field in marked {
        let key = type_key(field.ty.to_token_stream(), &self_key);
        if let Some((_, first)) = distinct.iter().find(|(seen, _)| *seen == key) {
            errors.error_spanned_by(
                field.ty,
                format!(
                    "fields {} and {} are both marked `#[field]` with type `{}`, but \
                     `HasField` selects a field by its type: give {} a distinct type{}",
                    first.quoted_name(),
                    field.quoted_name(),
                    written(field.ty),
                    field.quoted_name(),
                    distinct_type_example(field.ty),
                ),
            );
            continue;
        }
        distinct.push((key, field));
    }

    distinct.into_iter().map(|(_, field)| field).collect()
}

/// With `struct S<T> { #[field] value: T, #[field] link: Link }`, the impls
/// `HasField<S<T>, T>` and `HasField<S<T>, Link>` overlap for `S<Link>`, which the
/// compiler reports as conflicting impls in generated code.
// NOTE: only a bare type parameter is caught here. Field types such as `Link<T>` and
// `Link<U>` can overlap too, and still get the compiler's conflicting-impls error.
fn reject_bare_type_parameters<'c, 'a>(
    container: &Container<'a>,
    fields: Vec<&'c Field<'a>>,
    errors: &mut Errors,
) -> Vec<&'c Field<'a>> {
    if fields.len() < 2 {
        return fields;
    }

    let mut impl_fields = Vec::new();
    for (position, field) in fields.iter().enumerate() {
        let Some(param) = bare_type_parameter(container, field.ty) else {
            impl_fields.push(*field);
            continue;
        };
        let other = if position == 0 { fields[1] } else { fields[0] };
        errors.error_spanned_by(
            field.ty,
            format!(
                "the type of field {} is the type parameter `{param}`, so its `HasField` impl \
                 would overlap with the one for field {} when `{param}` is `{}`: wrap \
                 `{param}` in a field type of its own, or mark only one of the two fields",
                field.quoted_name(),
                other.quoted_name(),
                written(other.ty),
            ),
        );
    }
    impl_fields
}

/// Returns the name of the struct's type parameter that `ty` is, if it is one.
fn bare_type_parameter(container: &Container, ty: &Type) -> Option<String> {
    let ty = match ty {
        Type::Group(group) => return bare_type_parameter(container, &group.elem),
        Type::Paren(paren) => return bare_type_parameter(container, &paren.elem),
        Type::Path(path) if path.qself.is_none() => path,
        _ => return None,
    };
    let ident = ty.path.get_ident()?;
    container
        .generics
        .params
        .iter()
        .find_map(|param| match param {
            GenericParam::Type(param) if param.ident == *ident => Some(ident.to_string()),
            _ => None,
        })
}

/// Suggests a distinct type. A link type without arguments gets a const parameter, which
/// is how one link type serves several lists.
fn distinct_type_example(ty: &Type) -> String {
    match ty {
        Type::Group(group) => distinct_type_example(&group.elem),
        Type::Path(path) => match path.path.segments.last() {
            Some(last) if last.arguments.is_empty() => format!(
                ", for example by giving the link type a const parameter, as in `{}<1>`",
                last.ident
            ),
            _ => format!(
                ", for example a wrapper struct around `{}` that implements `Field`",
                written(ty)
            ),
        },
        _ => String::new(),
    }
}

/// Spells a type the same way however it was spaced or grouped by macros, with each
/// `Self` replaced by `self_key`, the key of the struct's own type.
fn type_key(tokens: TokenStream, self_key: &str) -> String {
    let mut key = String::new();
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                key.push_str(open);
                key.push_str(&type_key(group.stream(), self_key));
                key.push_str(close);
            }
            TokenTree::Ident(ident) if ident == "Self" => key.push_str(self_key),
            other => {
                key.push_str(&other.to_string());
                key.push(' ');
            }
        }
    }
    key
}
