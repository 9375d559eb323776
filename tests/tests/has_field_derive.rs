//! Derived impls used from another crate, compiled under the workspace lints and clippy,
//! so that generated code stays warning-free in users' crates.

#![warn(clippy::pedantic, unused_qualifications, unreachable_pub)]

use core::mem::offset_of;
use core::ptr;

use has_field::{Field, HasField};

struct Link {
    next: *mut Link,
}

impl<T: ?Sized> Field<T> for Link {}

struct Tag<const ID: usize>(u32);

impl<T: ?Sized, const ID: usize> Field<T> for Tag<ID> {}

#[derive(HasField)]
struct Node<'a, T: ?Sized, const ID: usize = 0> {
    name: &'a str,
    #[field]
    link: Link,
    #[field]
    tag: Tag<ID>,
    value: T,
}

#[test]
fn generic_node_round_trips() {
    let mut node: Node<'_, u64> = Node {
        name: "node",
        link: Link {
            next: ptr::null_mut(),
        },
        tag: Tag(3),
        value: 4,
    };
    let container = &raw mut node;

    // SAFETY: `container` points to the live `node`.
    let tag = unsafe { <Node<'_, u64> as HasField<_, Tag<0>>>::raw_get_field(container) };
    assert_eq!(
        tag.addr() - container.addr(),
        offset_of!(Node<'_, u64>, tag)
    );

    // SAFETY: `tag` came from `raw_get_field` on `container`.
    let back = unsafe { <Node<'_, u64> as HasField<_, Tag<0>>>::field_container_of(tag) };
    assert_eq!(back, container);

    // SAFETY: `back` has the provenance of `container`, which covers all of `node`.
    let link: *mut Link = unsafe {
        (*back).value += 1;
        Node::raw_get_field(back)
    };
    // SAFETY: `link` points into the live `node`.
    unsafe { (*link).next = link };

    assert_eq!((node.name, node.value, node.tag.0), ("node", 5, 3));
    assert_eq!(node.link.next.addr(), link.addr());
}
