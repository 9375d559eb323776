//! Whether two marked fields' types can be the same type for some choice of the struct's
//! generic parameters, which would make their two `HasField` impls overlap.
//!
//! The derive emits one impl per marked field, and each has the struct's own generics,
//! so the impls for `Link<T>` and `Link<U>` overlap when `T` and `U` are the same type.
//! The compiler would report that as conflicting impls pointing at the derive. This
//! module finds such pairs first, with a unifier over the types as written, so the error
//! can name the fields and the parameter values that make them collide. The caller asks
//! only about pairs where one type does not depend on the parameters; see
//! `reject_overlapping_types` for why.
//!
//! A pair is reported only when the unifier is sure. Both types must be built from
//! paths, references, pointers, slices, arrays and tuples. A substitution of the
//! struct's parameters must make them equal without breaking a trait bound or the
//! implicit `Sized` bound, which the compiler checks too (see [`collision`]). Anything else
//! (associated types, trait objects, function pointers, const expressions) counts as
//! "not known to overlap" and is left to the compiler, so that a struct the compiler
//! accepts is not rejected here. Two different paths count as different types even
//! though a `use` or a type alias could make them one; the compiler still reports those.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{
    Expr, ExprLit, ExprPath, GenericArgument, GenericParam, Generics, Lit, Path, PathArguments,
    Type, TypeParamBound, WherePredicate,
};

use crate::attr::written;

/// A type, or a const argument, reduced to what the unifier compares.
#[derive(Clone, Debug)]
enum Term {
    /// A type or const parameter of the struct.
    Var(String),
    /// A constructor applied to arguments: a path with its generic arguments, or a
    /// reference, pointer, slice, array or tuple of its element terms.
    App { head: String, args: Vec<Term> },
    /// A const argument written as a literal: an integer by its value, so that `1`,
    /// `01` and `1usize` are equal, and anything else by its text.
    Literal(String),
    /// Something the unifier does not look into, as written. It equals nothing but a
    /// parameter, and only a parameter it does not mention.
    Opaque { text: String, mentions_params: bool },
}

/// A substitution of the struct's parameters that makes two field types equal, kept as
/// text for the error message.
pub struct Collision {
    bindings: Vec<(String, Binding)>,
}

enum Binding {
    /// The parameter must be the same as another parameter.
    Parameter { other: String, is_const: bool },
    /// The parameter must be this type or value, written as the user wrote it.
    Written(String),
}

impl Collision {
    /// Describes the substitution for an error message, for example "`T` is `u8`" or
    /// "`T` and `U` are the same type".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .bindings
            .iter()
            .map(|(param, binding)| match binding {
                Binding::Parameter { other, is_const } => {
                    let same = if *is_const { "equal" } else { "the same type" };
                    format!("`{param}` and `{other}` are {same}")
                }
                Binding::Written(text) => format!("`{param}` is `{text}`"),
            })
            .collect();
        match parts.as_slice() {
            [] => "for every choice of the struct's parameters".to_owned(),
            [only] => format!("when {only}"),
            [rest @ .., last] => format!("when {} and {last}", rest.join(", ")),
        }
    }
}

/// The struct's generics, seen as the variables of the unification.
pub struct Params<'a> {
    generics: &'a Generics,
    /// The struct's own type, which `Self` stands for.
    self_ty: Type,
}

impl<'a> Params<'a> {
    pub fn new(generics: &'a Generics, self_ty: TokenStream) -> Self {
        let self_ty = syn::parse2(self_ty).expect("the struct's name and generics form a type");
        Params { generics, self_ty }
    }

    fn is_var(&self, name: &str) -> bool {
        self.generics.params.iter().any(|param| match param {
            GenericParam::Type(param) => param.ident == name,
            GenericParam::Const(param) => param.ident == name,
            GenericParam::Lifetime(_) => false,
        })
    }

    fn is_type_param(&self, name: &str) -> bool {
        self.generics
            .params
            .iter()
            .any(|param| matches!(param, GenericParam::Type(param) if param.ident == name))
    }

    /// Returns `true` if `name` is a type parameter declared `?Sized`, in its declaration
    /// or in the where clause.
    fn may_be_unsized(&self, name: &str) -> bool {
        let declared = self.generics.params.iter().any(|param| match param {
            GenericParam::Type(param) => param.ident == name && relaxes_sized(&param.bounds),
            _ => false,
        });
        let in_where = self.generics.where_clause.iter().any(|clause| {
            clause.predicates.iter().any(|predicate| match predicate {
                WherePredicate::Type(predicate) => {
                    written(&predicate.bounded_ty) == name && relaxes_sized(&predicate.bounds)
                }
                _ => false,
            })
        });
        declared || in_where
    }

    /// Returns `true` if `name` carries a trait bound, in its declaration or in the
    /// where clause. `?Sized` and lifetime bounds do not count: the compiler's overlap
    /// check ignores lifetimes, and `?Sized` only widens the parameter.
    fn is_bounded(&self, name: &str) -> bool {
        let declared = self.generics.params.iter().any(|param| match param {
            GenericParam::Type(param) => param.ident == name && has_trait_bound(&param.bounds),
            _ => false,
        });
        let in_where = self.generics.where_clause.iter().any(|clause| {
            clause.predicates.iter().any(|predicate| match predicate {
                WherePredicate::Type(predicate) => {
                    mentions(predicate.bounded_ty.to_token_stream(), name)
                        && has_trait_bound(&predicate.bounds)
                }
                _ => false,
            })
        });
        declared || in_where
    }
}

fn relaxes_sized<'b>(bounds: impl IntoIterator<Item = &'b TypeParamBound>) -> bool {
    bounds.into_iter().any(|bound| {
        matches!(bound, TypeParamBound::Trait(bound)
            if matches!(bound.modifier, syn::TraitBoundModifier::Maybe(_)))
    })
}

fn has_trait_bound<'b>(bounds: impl IntoIterator<Item = &'b TypeParamBound>) -> bool {
    bounds.into_iter().any(|bound| match bound {
        TypeParamBound::Trait(bound) => {
            matches!(bound.modifier, syn::TraitBoundModifier::None)
        }
        _ => false,
    })
}

/// Returns `true` if `tokens` contain the identifier `name`.
fn mentions(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|token| match token {
        proc_macro2::TokenTree::Ident(ident) => ident == name,
        proc_macro2::TokenTree::Group(group) => mentions(group.stream(), name),
        _ => false,
    })
}

/// Returns the substitution under which `a` and `b` are one type, if the unifier is sure
/// there is one.
///
/// A parameter that must become a concrete type is only accepted when the compiler could
/// not rule that type out:
///
/// - the parameter has no trait bound, because the compiler may prove that the type does
///   not meet a bound on a local trait;
/// - it may be unsized, or the type is known to be sized, because the compiler can tell
///   which types are unsized (`str`, slices, trait objects, and structs that end in one)
///   and a type parameter is `Sized` unless declared `?Sized`. A parameter that is a
///   whole field type may become any other marked field's type, since `HasField`
///   requires every field type to be sized.
pub fn collision(params: &Params, a: &Type, b: &Type) -> Option<Collision> {
    let a = term(params, a);
    let b = term(params, b);
    let mut subst = Subst::default();
    if !subst.unify(&a, &b) {
        return None;
    }
    let is_whole = |param: &str| {
        [&a, &b]
            .iter()
            .any(|term| matches!(term, Term::Var(name) if name == param))
    };

    let mut bindings = Vec::new();
    for (param, value) in &subst.bound {
        let resolved = subst.resolve(value);
        let concrete = !matches!(resolved, Term::Var(_));
        if concrete && params.is_bounded(param) {
            return None;
        }
        let must_be_sized = params.is_type_param(param) && !params.may_be_unsized(param);
        if concrete && must_be_sized && !is_whole(param) && !subst.known_sized(resolved, params) {
            return None;
        }
        let binding = match value {
            Term::Var(other) => Binding::Parameter {
                other: other.clone(),
                is_const: !params.is_type_param(param),
            },
            _ => Binding::Written(subst.display(value)),
        };
        bindings.push((param.clone(), binding));
    }
    Some(Collision { bindings })
}

/// Bindings from parameter names to terms, each already checked against the others.
#[derive(Default)]
struct Subst {
    bound: BTreeMap<String, Term>,
}

impl Subst {
    /// Follows bindings until `term` is not a bound variable.
    fn resolve<'t>(&'t self, term: &'t Term) -> &'t Term {
        match term {
            Term::Var(name) => match self.bound.get(name) {
                Some(value) => self.resolve(value),
                None => term,
            },
            other => other,
        }
    }

    /// Extends the substitution so that `a` and `b` become equal; returns `false` if
    /// they cannot, or if the unifier cannot tell.
    fn unify(&mut self, a: &Term, b: &Term) -> bool {
        let a = self.resolve(a).clone();
        let b = self.resolve(b).clone();
        match (&a, &b) {
            (Term::Var(x), Term::Var(y)) if x == y => true,
            (Term::Var(x), other) | (other, Term::Var(x)) => {
                // A type that contains the parameter cannot equal it: no finite type
                // solves `T = Link<T>`. An opaque part that mentions any parameter may
                // contain this one, so it counts as containing it.
                if self.occurs(x, other) {
                    return false;
                }
                self.bound.insert(x.clone(), other.clone());
                true
            }
            (Term::Opaque { .. }, _) | (_, Term::Opaque { .. }) => false,
            (Term::Literal(x), Term::Literal(y)) => x == y,
            (Term::App { head: f, args: xs }, Term::App { head: g, args: ys }) => {
                f == g && xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| self.unify(x, y))
            }
            _ => false,
        }
    }

    /// Returns `true` if `term` is sized whatever its parameters are: a reference, pointer
    /// or array, a primitive, a tuple of such, or a type parameter not declared `?Sized`.
    /// A named type counts as maybe unsized, because the derive cannot see its fields.
    fn known_sized(&self, term: &Term, params: &Params) -> bool {
        match self.resolve(term) {
            Term::Var(name) => !params.may_be_unsized(name),
            Term::App { head, args } => match head.as_str() {
                REF | REF_MUT | PTR_CONST | PTR_MUT | ARRAY => true,
                TUPLE => args.iter().all(|arg| self.known_sized(arg, params)),
                path => args.is_empty() && PRIMITIVES.contains(&path),
            },
            Term::Literal(_) | Term::Opaque { .. } => false,
        }
    }

    fn occurs(&self, name: &str, term: &Term) -> bool {
        match self.resolve(term) {
            Term::Var(other) => other == name,
            Term::App { args, .. } => args.iter().any(|arg| self.occurs(name, arg)),
            Term::Opaque {
                mentions_params, ..
            } => *mentions_params,
            Term::Literal(_) => false,
        }
    }

    /// Writes a term back as Rust syntax, with bound parameters replaced by their values.
    fn display(&self, term: &Term) -> String {
        match self.resolve(term) {
            Term::Var(name) => name.clone(),
            Term::Literal(text) => text.clone(),
            Term::Opaque { text, .. } => text.clone(),
            Term::App { head, args } => {
                let args: Vec<String> = args.iter().map(|arg| self.display(arg)).collect();
                render(head, &args)
            }
        }
    }
}

/// Heads of the built-in constructors. Path heads are the path's text and never start
/// with one of these characters.
const REF: &str = "&";
const REF_MUT: &str = "&mut";
const PTR_CONST: &str = "*const";
const PTR_MUT: &str = "*mut";
const SLICE: &str = "[]";
const ARRAY: &str = "[;]";
const TUPLE: &str = "()";

/// The sized primitive types, by the names the prelude gives them.
const PRIMITIVES: &[&str] = &[
    "bool", "char", "f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32",
    "u64", "u128", "usize",
];

fn render(head: &str, args: &[String]) -> String {
    match head {
        REF => format!("&{}", args[0]),
        REF_MUT => format!("&mut {}", args[0]),
        PTR_CONST => format!("*const {}", args[0]),
        PTR_MUT => format!("*mut {}", args[0]),
        SLICE => format!("[{}]", args[0]),
        ARRAY => format!("[{}; {}]", args[0], args[1]),
        TUPLE if args.len() == 1 => format!("({},)", args[0]),
        TUPLE => format!("({})", args.join(", ")),
        path if args.is_empty() => path.to_owned(),
        path => format!("{path}<{}>", args.join(", ")),
    }
}

/// Reduces a field type to a term.
fn term(params: &Params, ty: &Type) -> Term {
    match ty {
        Type::Group(group) => term(params, &group.elem),
        Type::Paren(paren) => term(params, &paren.elem),
        Type::Path(path) if path.qself.is_none() => path_term(params, &path.path),
        Type::Reference(reference) => {
            let head = if reference.mutability.is_some() {
                REF_MUT
            } else {
                REF
            };
            app(head, vec![term(params, &reference.elem)])
        }
        Type::Ptr(pointer) => {
            let head = if pointer.mutability.is_some() {
                PTR_MUT
            } else {
                PTR_CONST
            };
            app(head, vec![term(params, &pointer.elem)])
        }
        Type::Slice(slice) => app(SLICE, vec![term(params, &slice.elem)]),
        Type::Array(array) => app(
            ARRAY,
            vec![term(params, &array.elem), const_term(params, &array.len)],
        ),
        Type::Tuple(tuple) => app(
            TUPLE,
            tuple.elems.iter().map(|elem| term(params, elem)).collect(),
        ),
        _ => opaque(params, ty),
    }
}

/// Wraps what the unifier does not look into, noting whether it names a parameter.
fn opaque(params: &Params, tokens: &impl ToTokens) -> Term {
    let tokens = tokens.to_token_stream();
    let mentions_params = params.generics.params.iter().any(|param| match param {
        GenericParam::Type(param) => mentions(tokens.clone(), &param.ident.to_string()),
        GenericParam::Const(param) => mentions(tokens.clone(), &param.ident.to_string()),
        GenericParam::Lifetime(_) => false,
    }) || mentions(tokens.clone(), "Self");
    Term::Opaque {
        text: written(&tokens),
        mentions_params,
    }
}

fn app(head: &str, args: Vec<Term>) -> Term {
    Term::App {
        head: head.to_owned(),
        args,
    }
}

/// Reduces a path type. Lifetime arguments are dropped, because the compiler's overlap
/// check treats every lifetime as able to equal every other.
fn path_term(params: &Params, path: &Path) -> Term {
    if let Some(ident) = path.get_ident() {
        if ident == "Self" {
            return term(params, &params.self_ty);
        }
        if params.is_var(&ident.to_string()) {
            return Term::Var(ident.to_string());
        }
    }
    let first = &path.segments[0].ident;
    if path.segments.len() > 1
        && (first == "Self" || params.is_type_param(&first.to_string()))
        && path.leading_colon.is_none()
    {
        // `T::Item` or `Self::Item`: an associated type, which may be anything.
        return opaque(params, path);
    }

    let mut head = String::new();
    if path.leading_colon.is_some() {
        head.push_str("::");
    }
    let mut args = Vec::new();
    for (position, segment) in path.segments.iter().enumerate() {
        if position > 0 {
            head.push_str("::");
        }
        head.push_str(&segment.ident.to_string());
        match &segment.arguments {
            PathArguments::None => {}
            PathArguments::AngleBracketed(arguments) => {
                for argument in &arguments.args {
                    match argument {
                        GenericArgument::Lifetime(_) => {}
                        GenericArgument::Type(ty) => args.push(term(params, ty)),
                        GenericArgument::Const(expr) => args.push(const_term(params, expr)),
                        _ => return opaque(params, path),
                    }
                }
            }
            PathArguments::Parenthesized(_) => return opaque(params, path),
        }
    }
    Term::App { head, args }
}

/// Reduces a const argument: a literal, one of the struct's const parameters, or
/// something the unifier does not evaluate.
fn const_term(params: &Params, expr: &Expr) -> Term {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<u128>() {
            Ok(value) => Term::Literal(value.to_string()),
            Err(_) => opaque(params, expr),
        },
        Expr::Lit(ExprLit { lit, .. }) => Term::Literal(written(&quote!(#lit))),
        Expr::Path(ExprPath {
            qself: None, path, ..
        }) => match path.get_ident() {
            Some(ident) if params.is_var(&ident.to_string()) => Term::Var(ident.to_string()),
            _ => opaque(params, expr),
        },
        Expr::Group(group) => const_term(params, &group.expr),
        Expr::Paren(paren) => const_term(params, &paren.expr),
        _ => opaque(params, expr),
    }
}

#[cfg(test)]
mod tests {
    use syn::{DeriveInput, parse_quote};

    use super::*;

    /// Unifies the types of the first two fields of `input`.
    fn first_two(input: DeriveInput) -> Option<String> {
        let syn::Data::Struct(data) = &input.data else {
            panic!("a struct")
        };
        let mut fields = data.fields.iter();
        let a = &fields.next().unwrap().ty;
        let b = &fields.next().unwrap().ty;
        let ident = &input.ident;
        let (_, ty_generics, _) = input.generics.split_for_impl();
        let params = Params::new(&input.generics, quote!(#ident #ty_generics));
        collision(&params, a, b).map(|found| found.describe())
    }

    #[test]
    fn collision_of_two_parameters() {
        let found = first_two(parse_quote!(
            struct S<T, U> {
                a: Link<T>,
                b: Link<U>,
            }
        ));
        assert_eq!(found.as_deref(), Some("when `T` and `U` are the same type"));
    }

    #[test]
    fn collision_with_concrete_argument() {
        let found = first_two(parse_quote!(
            struct S<T> {
                a: Pair<T, u8>,
                b: Pair<[u16; 2], u8>,
            }
        ));
        assert_eq!(found.as_deref(), Some("when `T` is `[u16; 2]`"));
    }

    #[test]
    fn collision_with_const_literal() {
        let found = first_two(parse_quote!(
            struct S<const N: u64> {
                a: Links<N>,
                b: Links<1>,
            }
        ));
        assert_eq!(found.as_deref(), Some("when `N` is `1`"));
    }

    #[test]
    fn collision_of_const_parameters_wording() {
        let found = first_two(parse_quote!(
            struct S<const N: usize, const M: usize> {
                a: Links<N>,
                b: Links<M>,
            }
        ));
        assert_eq!(found.as_deref(), Some("when `N` and `M` are equal"));
    }

    #[test]
    fn collision_compares_integers_by_value() {
        let found = first_two(parse_quote!(
            struct S<T> {
                a: Pair<T, Links<1>>,
                b: Pair<u8, Links<0x1usize>>,
            }
        ));
        assert_eq!(found.as_deref(), Some("when `T` is `u8`"));
    }

    #[test]
    fn collision_needs_consistent_bindings() {
        let found = first_two(parse_quote!(
            struct S<T> {
                a: Pair<T, T>,
                b: Pair<u8, u16>,
            }
        ));
        assert_eq!(found, None);
    }

    #[test]
    fn collision_fails_occurs_check() {
        let found = first_two(parse_quote!(
            struct S<T> {
                a: Link<T>,
                b: Link<Box<T>>,
            }
        ));
        assert_eq!(found, None);
    }

    #[test]
    fn collision_needs_same_paths_and_literals() {
        let paths = first_two(parse_quote!(
            struct S<T> {
                a: Link<T>,
                b: Other<T>,
            }
        ));
        assert_eq!(paths, None);
        let literals = first_two(parse_quote!(
            struct S {
                a: Links<0>,
                b: Links<1>,
            }
        ));
        assert_eq!(literals, None);
    }

    #[test]
    fn collision_ignores_lifetimes() {
        let found = first_two(parse_quote!(
            struct S<'a, 'b, T> {
                a: Link<'a, T>,
                b: Link<'b, u8>,
            }
        ));
        assert_eq!(found.as_deref(), Some("when `T` is `u8`"));
    }

    #[test]
    fn collision_inside_builtin_types() {
        let found = first_two(parse_quote!(
            struct S<T, const N: usize> {
                a: (&'static T, *mut [u8; N]),
                b: (&'static (u32, bool), *mut [u8; 4]),
            }
        ));
        assert_eq!(
            found.as_deref(),
            Some("when `N` is `4` and `T` is `(u32, bool)`")
        );
        let mutability = first_two(parse_quote!(
            struct S<T> {
                a: *mut T,
                b: *const T,
            }
        ));
        assert_eq!(mutability, None);
    }

    #[test]
    fn collision_reads_self_as_struct() {
        let found = first_two(parse_quote!(
            struct S<T> {
                a: Link<T>,
                b: Link<Self>,
            }
        ));
        // `T = S<T>` has no finite solution.
        assert_eq!(found, None);
        let found = first_two(parse_quote!(
            struct S<T> {
                a: Link<Box<S<u8>>>,
                b: Link<Box<Self>>,
            }
        ));
        assert_eq!(found.as_deref(), Some("when `T` is `u8`"));
    }

    #[test]
    fn collision_skips_opaque_types() {
        for input in [
            parse_quote!(
                struct S<T: Iterator> {
                    a: Link<T::Item>,
                    b: Link<u8>,
                }
            ),
            parse_quote!(
                struct S<T> {
                    a: Link<fn(T)>,
                    b: Link<fn(u8)>,
                }
            ),
            parse_quote!(
                struct S<T> {
                    a: Link<dyn Fn(T)>,
                    b: Link<dyn Fn(u8)>,
                }
            ),
            parse_quote!(
                struct S<const N: usize> {
                    a: Links<{ N + 1 }>,
                    b: Links<2>,
                }
            ),
        ] {
            assert_eq!(first_two(input), None);
        }
    }

    #[test]
    fn collision_of_sized_parameter() {
        let named = first_two(parse_quote!(
            struct S<T> {
                a: Link<T>,
                b: Link<Node>,
            }
        ));
        assert_eq!(named, None, "`Node` may end in a slice");
        let slice = first_two(parse_quote!(
            struct S<T> {
                a: Link<T>,
                b: Link<[u8]>,
            }
        ));
        assert_eq!(slice, None);
        let relaxed = first_two(parse_quote!(
            struct S<T>
            where
                T: ?Sized,
            {
                a: Link<T>,
                b: Link<Node>,
            }
        ));
        assert_eq!(relaxed.as_deref(), Some("when `T` is `Node`"));
        let trait_object = first_two(parse_quote!(
            struct S<T: ?Sized> {
                a: Link<T>,
                b: Link<dyn Send>,
            }
        ));
        assert_eq!(trait_object.as_deref(), Some("when `T` is `dyn Send`"));
    }

    #[test]
    fn collision_of_whole_field_parameter() {
        let named = first_two(parse_quote!(
            struct S<T> {
                a: T,
                b: Link,
            }
        ));
        assert_eq!(named.as_deref(), Some("when `T` is `Link`"));
        let function = first_two(parse_quote!(
            struct S<T> {
                a: fn(u8),
                b: T,
            }
        ));
        assert_eq!(function.as_deref(), Some("when `T` is `fn(u8)`"));
        let recursive = first_two(parse_quote!(
            struct S<T> {
                a: T,
                b: fn(T),
            }
        ));
        assert_eq!(recursive, None, "`T` cannot be `fn(T)`");
    }

    #[test]
    fn collision_skips_bounded_parameter() {
        let declared = first_two(parse_quote!(
            struct S<T: Local> {
                a: Link<T>,
                b: Link<u8>,
            }
        ));
        assert_eq!(declared, None);
        let in_where = first_two(parse_quote!(
            struct S<T>
            where
                Vec<T>: Local,
            {
                a: Link<T>,
                b: Link<u8>,
            }
        ));
        assert_eq!(in_where, None);
        let unsized_only = first_two(parse_quote!(
            struct S<'a, T: ?Sized + 'a> {
                a: Link<&'a T>,
                b: Link<&'a str>,
            }
        ));
        assert_eq!(unsized_only.as_deref(), Some("when `T` is `str`"));
    }
}
