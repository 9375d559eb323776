//! Intrusive fields as a type-level fact.
//!
//! (Crate guide to be written: see the `HasField` docs for the contract.)
#![no_std]

#[cfg(feature = "derive")]
pub use has_field_derive::HasField;

/// A type that may be embedded as an intrusive field of the container `T`.
///
/// Implemented by the *field type*, not by the container. `impl<T> Field<T> for Link {}`
/// admits every container.
pub trait Field<T: ?Sized> {}

/// A container `Self` with exactly one field of type `F` exposed for intrusive use.
///
/// # Safety
///
/// An implementation promises, for the one field of type `F` it names:
/// - `raw_get_field(ptr)` returns a pointer to that field inside `*ptr`, derived from
///   `ptr` so that it carries the same provenance;
/// - `field_container_of(raw_get_field(ptr)) == ptr` and
///   `raw_get_field(field_container_of(f)) == f`: the two are exact inverses.
pub unsafe trait HasField<T: ?Sized, F: Field<T>> {
    /// Projects a container pointer to the pointer of its `F` field.
    ///
    /// # Safety
    ///
    /// `ptr` points to a valid, live `Self` (it may be unaligned-free but not dangling).
    unsafe fn raw_get_field(ptr: *mut Self) -> *mut F;

    /// Returns the container of the `F` field that `ptr` points to.
    ///
    /// # Safety
    ///
    /// `ptr` points to the `F` field inside a valid `Self`, and carries provenance over
    /// the whole container (for example because it came from `raw_get_field`).
    unsafe fn field_container_of(ptr: *mut F) -> *mut Self
    where
        Self: Sized;
}
