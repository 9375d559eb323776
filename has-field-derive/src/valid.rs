//! The rules an input must follow before impls are emitted for it. Each rule exists
//! because breaking it would make an impl unsound, ambiguous, or rejected by the compiler
//! with an error about generated code instead of about the user's struct.

use proc_macro2::{Literal, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::{Expr, ExprLit, GenericArgument, GenericParam, Ident, Lit, Member, PathArguments, Type};

use crate::ast::{Container, Field};
use crate::attr::written;
use crate::ctxt::Errors;
use crate::overlap::{self, Params};

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

    let sized = reject_unsized_types(marked, errors);
    let distinct = reject_same_types(container, sized, errors);
    reject_overlapping_types(container, distinct, errors)
}

/// `HasField<T, F>` requires `F: Sized`: `field_container_of` takes a thin `*mut F`, and
/// an intrusive field has a size fixed at compile time. A slice, `str` or trait object is
/// rejected here instead of through three compiler errors about the trait's bounds. A
/// named type that ends in a slice is unsized too, but only the compiler can tell.
fn reject_unsized_types<'c, 'a>(
    marked: Vec<&'c Field<'a>>,
    errors: &mut Errors,
) -> Vec<&'c Field<'a>> {
    marked
        .into_iter()
        .filter(|field| {
            let kind = match without_groups(field.ty) {
                Type::Slice(_) => "a slice",
                Type::TraitObject(_) => "a trait object",
                Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => "`str`",
                _ => return true,
            };
            errors.error_spanned_by(
                field.ty,
                format!(
                    "field {} is {kind}, which is unsized, but `HasField` needs a sized field \
                     type: put the unsized data behind a pointer, or leave the field unmarked",
                    field.quoted_name(),
                ),
            );
            false
        })
        .collect()
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

    let taken: Vec<String> = marked
        .iter()
        .map(|field| type_key(field.ty.to_token_stream(), &self_key))
        .collect();
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
                    distinct_type_example(container, field, &self_key, &taken),
                ),
            );
            continue;
        }
        distinct.push((key, field));
    }

    distinct.into_iter().map(|(_, field)| field).collect()
}

/// Two marked fields whose types differ as written may still be one type for some value
/// of the struct's parameters. With `struct S<T> { #[field] value: T, #[field] link: Link }`
/// the impls `HasField<S<T>, T>` and `HasField<S<T>, Link>` overlap for `S<Link>`, which
/// the compiler would report as conflicting impls in generated code. Fields are checked
/// in order, a bare type parameter last, and each one that overlaps an earlier accepted
/// field gets the error and no impl, so the impls that remain do not conflict.
fn reject_overlapping_types<'c, 'a>(
    container: &Container<'a>,
    fields: Vec<&'c Field<'a>>,
    errors: &mut Errors,
) -> Vec<&'c Field<'a>> {
    if fields.len() < 2 {
        return fields;
    }
    let ident = container.ident;
    let (_, ty_generics, _) = container.generics.split_for_impl();
    let params = Params::new(container.generics, quote!(#ident #ty_generics));

    let (bare, others): (Vec<&Field>, Vec<&Field>) = fields
        .iter()
        .partition(|field| bare_type_parameter(container, field.ty).is_some());
    let mut accepted: Vec<&Field> = Vec::new();
    for field in others.into_iter().chain(bare) {
        let found = accepted.iter().find_map(|earlier| {
            if !overlap_is_decidable(container, earlier.ty, field.ty) {
                return None;
            }
            overlap::collision(&params, earlier.ty, field.ty).map(|found| (*earlier, found))
        });
        let Some((earlier, collision)) = found else {
            accepted.push(field);
            continue;
        };
        let message = match bare_type_parameter(container, field.ty) {
            Some(param) => format!(
                "the type of field {} is the type parameter `{param}`, so its `HasField` impl \
                 would overlap with the one for field {} {}: wrap `{param}` in a field type of \
                 its own, or mark only one of the two fields",
                field.quoted_name(),
                earlier.quoted_name(),
                collision.describe(),
            ),
            None => format!(
                "fields {} and {} have types `{}` and `{}`, which are the same type {}, so \
                 their `HasField` impls would overlap: give {} a type that no choice of the \
                 struct's parameters makes equal to `{}`, such as a newtype around it, or \
                 mark only one of the two fields",
                earlier.quoted_name(),
                field.quoted_name(),
                written(earlier.ty),
                written(field.ty),
                collision.describe(),
                field.quoted_name(),
                written(earlier.ty),
            ),
        };
        errors.error_spanned_by(field.ty, message);
    }

    // Keep the fields' order for the emitted impls.
    fields
        .into_iter()
        .filter(|field| accepted.iter().any(|kept| std::ptr::eq(*kept, *field)))
        .collect()
}

/// Returns `true` if the derive may report an overlap of `a` and `b` itself.
///
/// When both types depend on the parameters, each impl carries a `Field` bound on its
/// type. The user may have implemented `Field` for only some containers (`Link<0>` in
/// `Entry<0, 1>`), and then the compiler can prove that the bound fails wherever the types
/// are equal, and accepts both impls. The derive cannot see those impls, so it leaves
/// such a pair to the compiler. A concrete type gets no bound, and its `Field` impl must
/// cover every container.
// NOTE: a bare type parameter is still checked against a generic type, because a bare
// `T` beside another marked field is a common mistake that deserves a clear error. The
// compiler would accept such a pair only when the other type's `Field` impls exclude the
// container the bare parameter makes. The derive then rejects code that the compiler
// accepts, so the fix is to write the two impls by hand.
fn overlap_is_decidable(container: &Container, a: &Type, b: &Type) -> bool {
    let depends = |ty: &Type| crate::expand::mentions_generics(ty.to_token_stream(), container);
    let bare = |ty: &Type| bare_type_parameter(container, ty).is_some();
    !(depends(a) && depends(b)) || bare(a) || bare(b)
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

/// Suggests a distinct type for `field`, whose type is already taken. A const argument
/// written as an integer gets the first value whose type is not in `taken`, the keys of
/// the marked fields' types. A type without arguments gets a newtype, because only the
/// owner of a type can give it a const parameter.
fn distinct_type_example(
    container: &Container,
    field: &Field,
    self_key: &str,
    taken: &[String],
) -> String {
    let ty = without_groups(field.ty);
    let Type::Path(path) = ty else {
        return newtype_example(field, ty, None);
    };
    let Some(last) = path.path.segments.last() else {
        return String::new();
    };
    let arguments = match &last.arguments {
        PathArguments::None if path.qself.is_none() => {
            return newtype_example(field, ty, Some(&last.ident));
        }
        PathArguments::AngleBracketed(arguments) => &arguments.args,
        _ => return wrapper_example(ty),
    };

    for (position, argument) in arguments.iter().enumerate() {
        match const_argument(container, argument) {
            Some(ConstArgument::Integer) => {
                let leading = &path.path.leading_colon;
                let prefix: Vec<_> = path
                    .path
                    .segments
                    .iter()
                    .take(path.path.segments.len() - 1)
                    .collect();
                let ident = &last.ident;
                for value in 0..=u8::MAX {
                    let replaced = arguments.iter().enumerate().map(|(index, argument)| {
                        if index == position {
                            Literal::u8_unsuffixed(value).into_token_stream()
                        } else {
                            argument.into_token_stream()
                        }
                    });
                    let candidate = quote!(#leading #(#prefix ::)* #ident<#(#replaced),*>);
                    let key = type_key(candidate.clone(), self_key);
                    if !taken.contains(&key) {
                        return format!(", for example `{}`", written(&candidate));
                    }
                }
            }
            Some(ConstArgument::Named(name)) => {
                return format!(
                    ", for example by changing the const argument `{name}` of `{}` to a value \
                     that no other marked field uses",
                    last.ident
                );
            }
            Some(ConstArgument::MaybeNamed(name)) => {
                return format!(
                    ", for example, if `{name}` is a constant, by changing that argument of \
                     `{}` to a value that no other marked field uses; if it is a type, {}",
                    last.ident,
                    wrapper_example(ty).trim_start_matches(", for example "),
                );
            }
            None => {}
        }
    }
    wrapper_example(ty)
}

/// A const argument whose value the user can change.
enum ConstArgument {
    Integer,
    /// A `{ ... }` block or another const expression, as written.
    Named(String),
    /// An upper-case name, which is a constant by convention but may also be a type.
    MaybeNamed(String),
}

/// Recognises `1`, `{ N + 1 }` and a constant in upper case such as `SECOND_LIST`. A
/// parameter of the struct itself is not offered for change: a type parameter is not a
/// constant, and any other value would overlap with a const parameter when it takes
/// that value. An upper-case name is only probably a constant: `Link<CPU>` may name a
/// unit struct `CPU`, so the hint for it covers both.
fn const_argument(container: &Container, argument: &GenericArgument) -> Option<ConstArgument> {
    match argument {
        GenericArgument::Const(Expr::Lit(ExprLit {
            lit: Lit::Int(_), ..
        })) => Some(ConstArgument::Integer),
        GenericArgument::Const(expr) => Some(ConstArgument::Named(written(expr))),
        GenericArgument::Type(Type::Path(path)) if path.qself.is_none() => {
            let ident = path.path.get_ident()?;
            let is_struct_parameter = container.generics.params.iter().any(|param| match param {
                GenericParam::Const(param) => param.ident == *ident,
                GenericParam::Type(param) => param.ident == *ident,
                GenericParam::Lifetime(_) => false,
            });
            let name = ident.to_string();
            let is_upper_case = name.chars().any(|c| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            (is_upper_case && !is_struct_parameter).then_some(ConstArgument::MaybeNamed(name))
        }
        _ => None,
    }
}

/// Suggests a newtype around `ty`, named after the field, and for a type named `ident`
/// with no arguments also a const parameter, which only the type's owner can add.
fn newtype_example(field: &Field, ty: &Type, ident: Option<&Ident>) -> String {
    let type_name = ident.map_or_else(|| "Field".to_owned(), ToString::to_string);
    let mut name = match &field.member {
        Member::Named(member) => upper_camel_case(&member.unraw().to_string()),
        Member::Unnamed(_) => String::new(),
    };
    if name.is_empty() || name == type_name {
        name = format!("Second{type_name}");
    }

    let newtype = format!(
        ", for example a newtype `struct {name}({});` with `impl<T> Field<T> for {name} {{}}`",
        written(ty)
    );
    match ident {
        Some(ident) => format!(
            "{newtype}, or, if `{ident}` is your own type, a const parameter on it so that \
             `{ident}<0>` and `{ident}<1>` are distinct types"
        ),
        None => newtype,
    }
}

fn wrapper_example(ty: &Type) -> String {
    format!(
        ", for example a wrapper struct around `{}` that implements `Field`",
        written(ty)
    )
}

fn without_groups(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => without_groups(&group.elem),
        Type::Paren(paren) => without_groups(&paren.elem),
        _ => ty,
    }
}

fn upper_camel_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

/// Spells a type the same way however it was spaced or grouped by macros, with each
/// `Self` replaced by `self_key`, the key of the struct's own type.
fn type_key(tokens: TokenStream, self_key: &str) -> String {
    let mut key = String::new();
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = crate::attr::delimiter_text(group.delimiter());
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
