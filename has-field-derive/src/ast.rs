//! A typed view of the derive input: the struct, its fields and what their attributes ask
//! for. It borrows from the syn tree so that errors can point at the original tokens.

use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Generics, Ident, Index, Member, Type};

use crate::attr;
use crate::ctxt::Errors;

/// A struct that `#[derive(HasField)]` was applied to.
pub struct Container<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    pub attrs: attr::Container,
    pub fields: Vec<Field<'a>>,
}

/// One field of the struct, marked `#[field]` or not.
pub struct Field<'a> {
    /// The name or tuple index that `(*ptr).member` and `offset_of!` use.
    pub member: Member,
    pub ty: &'a Type,
    pub attrs: attr::Field<'a>,
}

impl<'a> Container<'a> {
    /// Builds the view of `input`. Returns `None`, with the reason in `errors`, when the
    /// input is not a struct with fields, because then no impl can be emitted at all.
    pub fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Option<Self> {
        let attrs = attr::container(&input.attrs, errors);

        let data = match &input.data {
            Data::Struct(data) => data,
            Data::Enum(data) => {
                errors.error_spanned_by(
                    &data.enum_token,
                    "`#[derive(HasField)]` supports only structs, and an enum has no field \
                     at a fixed offset: put the intrusive field in a struct instead",
                );
                return None;
            }
            Data::Union(data) => {
                errors.error_spanned_by(
                    &data.union_token,
                    "`#[derive(HasField)]` supports only structs, and the fields of a union \
                     overlap: put the intrusive field in a struct instead",
                );
                return None;
            }
        };

        if let Fields::Unit = data.fields {
            errors.error_spanned_by(
                &input.ident,
                "`#[derive(HasField)]` needs a struct with fields, and a unit struct has \
                 none: add the intrusive field and mark it `#[field]`",
            );
            return None;
        }

        let fields = data
            .fields
            .iter()
            .enumerate()
            .map(|(position, field)| Field::from_syn(position, field, errors))
            .collect();

        Some(Container {
            ident: &input.ident,
            generics: &input.generics,
            attrs,
            fields,
        })
    }
}

impl<'a> Field<'a> {
    fn from_syn(position: usize, field: &'a syn::Field, errors: &mut Errors) -> Self {
        let member = match &field.ident {
            Some(ident) => Member::Named(ident.clone()),
            None => Member::Unnamed(Index {
                index: position as u32,
                span: field.ty.span(),
            }),
        };

        Field {
            member,
            ty: &field.ty,
            attrs: attr::field(&field.attrs, errors),
        }
    }

    /// Returns whether the field carries `#[field]`, well formed or not.
    pub fn is_marked(&self) -> bool {
        self.attrs.marker.is_some()
    }

    /// Returns the field's name or tuple index in backticks, for messages.
    pub fn quoted_name(&self) -> String {
        match &self.member {
            Member::Named(ident) => format!("`{ident}`"),
            Member::Unnamed(index) => format!("`{}`", index.index),
        }
    }
}
