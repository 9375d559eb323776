//! Code generation: one `unsafe impl HasField` per marked field, plus a guard against
//! packed layouts. Generated code names everything by absolute path (`::core::...` and the
//! `has_field` crate path), so it compiles whatever the user's module has in scope.

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, GenericParam};

use crate::ast::{Container, Field};
use crate::crate_path;
use crate::ctxt::Errors;
use crate::valid;

/// Runs the derive on `input`: build the typed view, validate it, expand it.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();

    let Some(container) = Container::from_syn(input, &mut errors) else {
        return errors.into_compile_errors().unwrap_or_default();
    };

    let impl_fields = valid::check(&container, &mut errors);

    let default_crate_path = match &container.attrs.crate_path {
        Some(_) => Vec::new(),
        None => crate_path::default_crate_path(),
    };

    match errors.into_compile_errors() {
        None => {
            let impls = impl_fields
                .iter()
                .map(|field| impl_has_field(&container, &default_crate_path, field));
            let guard = assert_fields_aligned(&container, &impl_fields);
            quote! {
                #(#impls)*
                #guard
            }
        }
        Some(compile_errors) => fallback(
            &container,
            &default_crate_path,
            &impl_fields,
            compile_errors,
        ),
    }
}

/// Emits the errors together with the impls for the fields that passed validation, so
/// that code using those impls does not add "trait bound not satisfied" errors to the
/// real ones. The build fails on the errors anyway, so no fallback impl ever runs.
fn fallback(
    container: &Container,
    default_crate_path: &[String],
    fields: &[&Field],
    compile_errors: TokenStream,
) -> TokenStream {
    if container.attrs.crate_path_invalid {
        return compile_errors;
    }
    let impls = fields
        .iter()
        .map(|field| impl_has_field(container, default_crate_path, field));
    quote! {
        #compile_errors
        #(#impls)*
    }
}

/// Writes the impl for one field. Its shape, for a field `link: Link` of `struct Node<T>`:
///
/// ```text
/// unsafe impl<T> ::has_field::HasField<Node<T>, Link> for Node<T> {
///     unsafe fn raw_get_field(ptr: *mut Self) -> *mut Link {
///         unsafe { &raw mut (*ptr).link }
///     }
///     unsafe fn field_container_of(ptr: *mut Link) -> *mut Self where Self: Sized {
///         unsafe { ptr.byte_sub(::core::mem::offset_of!(Self, link)).cast::<Self>() }
///     }
/// }
/// ```
/// `default_crate_path` is the path of the `has_field` crate, by segment, that applies
/// when the struct has no `#[has_field(crate = "...")]`.
fn impl_has_field(
    container: &Container,
    default_crate_path: &[String],
    field: &Field,
) -> TokenStream {
    let ident = container.ident;
    let (impl_generics, ty_generics, where_clause) = container.generics.split_for_impl();
    let member = &field.member;
    let field_type = field.ty;

    // The trait path carries the field type's span, so that "`Plain` is not declared as
    // an intrusive field of `Node`" points at the field instead of at the derive. A path
    // from `#[has_field(crate = "...")]` keeps the span of its string literal, so that a
    // path that does not resolve is reported there.
    let has_field = match &container.attrs.crate_path {
        Some(path) => quote!(#path),
        None => {
            let segments = default_crate_path
                .iter()
                .map(|segment| Ident::new(segment, field_type.span()));
            quote_spanned!(field_type.span()=> #(::#segments)*)
        }
    };
    let trait_path = quote_spanned! {field_type.span()=>
        #has_field::HasField<#ident #ty_generics, #field_type>
    };

    // The trait declares `F: Field<T>`. For a field type that depends on the struct's
    // generic parameters, such as `T` or `Link<N>`, that bound can hold for some
    // arguments and not others, so the impl carries it. A concrete field type gets no
    // bound: the compiler then checks it at the derive and reports a missing `Field` impl
    // there, instead of the impl silently not applying.
    let mut predicates: Vec<TokenStream> = match where_clause {
        Some(where_clause) => where_clause.predicates.iter().map(|p| quote!(#p)).collect(),
        None => Vec::new(),
    };
    if mentions_generics(field_type.to_token_stream(), container) {
        predicates.push(quote_spanned! {field_type.span()=>
            #field_type: #has_field::Field<#ident #ty_generics>
        });
    }
    let where_clause = if predicates.is_empty() {
        None
    } else {
        Some(quote!(where #(#predicates),*))
    };

    // Soundness notes on the two bodies:
    // - `&raw mut` creates no reference. `&mut (*ptr).field` would assert that the field
    //   is valid and unaliased, and would narrow the result's provenance to the field's
    //   bytes, so that under Stacked Borrows `field_container_of` could not reach the rest
    //   of the container from it.
    // - `byte_sub` keeps the provenance of `ptr`. Arithmetic on `ptr as usize` would lose
    //   it, and the pointer rebuilt from the integer would not be allowed to access
    //   anything under strict provenance.
    // - `where Self: Sized` makes `field_container_of` exist only where `offset_of!` does,
    //   and where a thin `*mut Self` is a whole pointer: an unsized container would need
    //   metadata that a field pointer cannot supply.
    // The impl itself keeps the call-site span, so the compiler treats it as macro output
    // and lints such as `unsafe_code` stay quiet in the user's crate. The cost: an E0119
    // between two impls points at the derive. Spanning the impl at the field would move
    // E0119 to the fields but break crates that deny `unsafe_code`.
    quote! {
        #[automatically_derived]
        unsafe impl #impl_generics #trait_path for #ident #ty_generics #where_clause {
            #[inline]
            unsafe fn raw_get_field(ptr: *mut Self) -> *mut #field_type {
                // SAFETY: the caller guarantees that `ptr` points into a live allocation
                // with room for a `Self`, so the place `(*ptr).field` is in bounds.
                unsafe { &raw mut (*ptr).#member }
            }

            #[inline]
            unsafe fn field_container_of(ptr: *mut #field_type) -> *mut Self
            where
                Self: ::core::marker::Sized,
            {
                // SAFETY: the caller guarantees that `ptr` points to this field inside a
                // `Self`, so the container starts `offset_of!` bytes earlier, in the same
                // allocation.
                unsafe { ptr.byte_sub(::core::mem::offset_of!(Self, #member)).cast::<Self>() }
            }
        }
    }
}

/// Returns whether `tokens` name `Self` or one of the struct's generic parameters.
pub(crate) fn mentions_generics(tokens: TokenStream, container: &Container) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => {
            ident == "Self"
                || container.generics.params.iter().any(|param| match param {
                    GenericParam::Type(param) => param.ident == ident,
                    GenericParam::Const(param) => param.ident == ident,
                    GenericParam::Lifetime(param) => param.lifetime.ident == ident,
                })
        }
        TokenTree::Group(group) => mentions_generics(group.stream(), container),
        _ => false,
    })
}

/// Makes the build fail when the struct is packed, even when the derive could not see the
/// `#[repr(packed)]`, for example because another macro added it after the derive ran.
/// A packed struct may place a field at an unaligned address, and intrusive code reads
/// and writes through field pointers as if they were aligned. The derive rejects a
/// `packed` it can read; this guard closes the hole for one it cannot. Taking a reference
/// to a field of a packed struct is a hard error (E0793) unless the field is always
/// aligned, so this function, which is never called, compiles only for a layout where
/// every marked field is aligned:
///
/// ```text
/// const _: () = {
///     fn __has_field_assert_fields_aligned<T>(this: &Node<T>) {
///         let _ = &this.link;
///     }
/// };
/// ```
fn assert_fields_aligned(container: &Container, fields: &[&Field]) -> TokenStream {
    let ident = container.ident;
    let (impl_generics, ty_generics, where_clause) = container.generics.split_for_impl();
    // `this` keeps the call-site span, because a local bound under one span is not
    // visible under the span of a field written inside `macro_rules!`.
    let this = quote!(this);
    let borrows = fields.iter().map(|field| {
        let member = &field.member;
        quote_spanned!(field.ty.span()=> let _ = &#this.#member;)
    });

    quote! {
        const _: () = {
            #[allow(dead_code)]
            fn __has_field_assert_fields_aligned #impl_generics (#this: &#ident #ty_generics)
            #where_clause
            {
                #(#borrows)*
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    fn expand(input: DeriveInput) -> String {
        derive(&input).to_string()
    }

    #[test]
    fn guard_borrows_each_marked_field() {
        let output = expand(parse_quote! {
            struct Node<T: ?Sized> {
                #[field]
                first: First,
                #[field]
                second: Second,
                value: T,
            }
        });

        assert!(output.contains("fn __has_field_assert_fields_aligned < T : ? Sized >"));
        assert!(output.contains("let _ = & this . first ;"));
        assert!(output.contains("let _ = & this . second ;"));
        assert!(!output.contains("& this . value"));
    }

    #[test]
    fn one_impl_per_marked_field() {
        let output = expand(parse_quote! {
            struct Pair(#[field] First, u8, #[field] Second);
        });

        assert_eq!(output.matches("unsafe impl").count(), 2);
        assert!(output.contains(":: has_field :: HasField < Pair , First >"));
        assert!(output.contains("& raw mut (* ptr) . 0"));
        assert!(output.contains(":: core :: mem :: offset_of ! (Self , 2)"));
    }

    #[test]
    fn generic_field_type_gets_field_bound() {
        let output = expand(parse_quote! {
            struct Node<T, const N: usize> where T: Copy {
                #[field]
                link: Link<N>,
                #[field]
                plain: Plain,
                value: T,
            }
        });

        assert!(
            output
                .contains("where T : Copy , Link < N > : :: has_field :: Field < Node < T , N > >")
        );
        assert!(!output.contains("Plain : :: has_field :: Field"));
    }

    #[test]
    fn errors_keep_valid_impls_and_drop_guard() {
        let output = expand(parse_quote! {
            #[repr(packed)]
            struct Node {
                #[field]
                first: Link,
                #[field]
                second: Link,
            }
        });

        assert_eq!(output.matches("compile_error !").count(), 2);
        assert_eq!(output.matches("unsafe impl").count(), 1);
        assert!(!output.contains("__has_field_assert_fields_aligned"));
    }

    #[test]
    fn invalid_crate_path_emits_only_errors() {
        let output = expand(parse_quote! {
            #[has_field(crate = "not a path")]
            struct Node {
                #[field]
                link: Link,
            }
        });

        assert_eq!(output.matches("compile_error !").count(), 1);
        assert!(!output.contains("unsafe impl"));
    }

    #[test]
    fn crate_path_replaces_default() {
        let output = expand(parse_quote! {
            #[has_field(crate = "::rcu::has_field")]
            struct Node {
                #[field]
                link: Link,
            }
        });

        assert!(output.contains("unsafe impl :: rcu :: has_field :: HasField < Node , Link >"));
        assert!(!output.contains("unsafe impl :: has_field"));
    }
}
