//! Field types and checks shared by the compile-pass cases, included with `#[path]`.

#![allow(dead_code)]

use core::ptr;

use has_field::{Field, HasField};

/// A list link that any container, sized or not, may embed.
pub struct Link {
    pub next: *mut Link,
}

impl Link {
    pub const fn new() -> Self {
        Link {
            next: ptr::null_mut(),
        }
    }
}

impl<T: ?Sized> Field<T> for Link {}

/// A link for the lists numbered `LIST`, so that one struct can sit on several lists.
pub struct ListLink<const LIST: usize> {
    pub next: *mut ListLink<LIST>,
}

impl<const LIST: usize> ListLink<LIST> {
    pub const fn new() -> Self {
        ListLink {
            next: ptr::null_mut(),
        }
    }
}

impl<T: ?Sized, const LIST: usize> Field<T> for ListLink<LIST> {}

/// Checks that the `F` field of `container` sits `offset` bytes in, and that
/// `raw_get_field` and `field_container_of` are exact inverses on it.
pub fn check_round_trip<T, F>(container: &mut T, offset: usize)
where
    T: HasField<T, F>,
    F: Field<T>,
{
    let container: *mut T = container;

    // SAFETY: `container` comes from a live `&mut T`.
    let field = unsafe { T::raw_get_field(container) };
    assert_eq!(field.addr() - container.addr(), offset, "field offset");

    // SAFETY: `field` came from `raw_get_field` on `container`.
    let back = unsafe { T::field_container_of(field) };
    assert_eq!(back, container, "container from field");

    // SAFETY: `back` is `container`, with its provenance.
    let again = unsafe { T::raw_get_field(back) };
    assert_eq!(again, field, "field from container");
}
