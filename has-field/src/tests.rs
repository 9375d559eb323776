//! Unit tests of the conversions, written to run under Miri with Stacked and Tree Borrows.
//! Every pointer is derived from another without integer round trips or references to a
//! single field, so a violation of the `HasField` contract shows up as undefined behavior.

use core::mem::offset_of;
use core::ptr;

use crate::{Field, HasField};

struct Link {
    next: *mut Link,
}

impl Link {
    const fn new() -> Self {
        Link {
            next: ptr::null_mut(),
        }
    }
}

impl<T: ?Sized> Field<T> for Link {}

/// A container with a hand-written impl, so these tests also run without `derive`.
struct Manual {
    value: u64,
    link: Link,
}

// SAFETY: both functions use the `link` field, the projection creates no reference, and
// the inverse subtracts the same offset with `byte_sub`, keeping the provenance.
unsafe impl HasField<Manual, Link> for Manual {
    unsafe fn raw_get_field(ptr: *mut Self) -> *mut Link {
        // SAFETY: the caller guarantees that `ptr` points to a `Manual`.
        unsafe { &raw mut (*ptr).link }
    }

    unsafe fn field_container_of(ptr: *mut Link) -> *mut Self {
        // SAFETY: the caller guarantees that `ptr` points to the `link` of a `Manual`.
        unsafe { ptr.byte_sub(offset_of!(Manual, link)).cast() }
    }
}

#[test]
fn manual_impl_round_trips() {
    let mut manual = Manual {
        value: 1,
        link: Link::new(),
    };
    let container = &raw mut manual;

    // SAFETY: `container` points to the live `manual`.
    let link = unsafe { Manual::raw_get_field(container) };
    assert_eq!(link.addr() - container.addr(), offset_of!(Manual, link));

    // SAFETY: `link` came from `raw_get_field` on `container`.
    let back = unsafe { Manual::field_container_of(link) };
    assert_eq!(back, container);

    // SAFETY: `back` has the provenance of `container`, which covers all of `manual`.
    unsafe { (*back).value = 2 };
    assert_eq!(manual.value, 2);
    assert!(manual.link.next.is_null());
}

#[cfg(feature = "derive")]
mod derived {
    use core::mem::MaybeUninit;
    use std::boxed::Box;

    use super::*;

    #[derive(crate::HasField)]
    #[has_field(crate = "crate")]
    struct Node {
        value: u64,
        #[field]
        link: Link,
        tail: [u8; 3],
    }

    #[derive(crate::HasField)]
    #[has_field(crate = "crate")]
    struct Pair(u16, #[field] Link, u32);

    #[derive(crate::HasField)]
    #[has_field(crate = "crate")]
    struct Unsized<T: ?Sized> {
        #[field]
        link: Link,
        data: T,
    }

    fn node(value: u64) -> Node {
        Node {
            value,
            link: Link::new(),
            tail: [0; 3],
        }
    }

    #[test]
    fn field_pointer_writes_other_fields() {
        let container = Box::into_raw(Box::new(node(1)));

        // SAFETY: `container` comes from `Box::into_raw`.
        let link = unsafe { Node::raw_get_field(container) };
        // SAFETY: `link` came from `raw_get_field` on the whole box.
        let back = unsafe { Node::field_container_of(link) };
        assert_eq!(back, container);

        // SAFETY: `back` has the provenance of the box, so it may write every field.
        unsafe {
            (*back).value = 7;
            (*back).tail = [1, 2, 3];
            (*link).next = link;
        }

        // SAFETY: `container` is the pointer `Box::into_raw` returned, used once.
        let node = unsafe { Box::from_raw(container) };
        assert_eq!(node.value, 7);
        assert_eq!(node.tail, [1, 2, 3]);
        assert_eq!(node.link.next.addr(), link.addr());
    }

    #[test]
    fn linked_nodes_lead_back_to_containers() {
        let first = Box::into_raw(Box::new(node(1)));
        let second = Box::into_raw(Box::new(node(2)));

        // SAFETY: both pointers come from `Box::into_raw` and stay valid until freed below.
        unsafe {
            (*Node::raw_get_field(first)).next = Node::raw_get_field(second);
        }

        // Walk from `first` to `second` through the link alone, then change `second`.
        // SAFETY: the link of `first` holds the link of `second`, derived from the box.
        unsafe {
            let next_link = (*Node::raw_get_field(first)).next;
            let next = Node::field_container_of(next_link);
            assert_eq!(next, second);
            (*next).value += 40;
        }

        // SAFETY: each pointer came from `Box::into_raw` and is freed once.
        let (first, second) = unsafe { (Box::from_raw(first), Box::from_raw(second)) };
        assert_eq!(first.value, 1);
        assert_eq!(second.value, 42);
    }

    #[test]
    fn tuple_struct_round_trips() {
        let mut pair = Pair(3, Link::new(), 4);
        let container = &raw mut pair;

        // SAFETY: `container` points to the live `pair`.
        let link = unsafe { Pair::raw_get_field(container) };
        assert_eq!(link.addr() - container.addr(), offset_of!(Pair, 1));

        // SAFETY: `link` came from `raw_get_field` on `container`.
        let back = unsafe { Pair::field_container_of(link) };
        assert_eq!(back, container);

        // SAFETY: `back` has the provenance of `container`.
        unsafe { (*back).2 = 5 };
        assert_eq!((pair.0, pair.2), (3, 5));
    }

    #[test]
    fn projection_of_unsized_container() {
        let sized: Box<Unsized<[u8; 4]>> = Box::new(Unsized {
            link: Link::new(),
            data: [1, 2, 3, 4],
        });
        let container: *mut Unsized<[u8]> = Box::into_raw(sized);

        // SAFETY: `container` comes from `Box::into_raw`, with valid slice metadata.
        let link = unsafe { Unsized::raw_get_field(container) };
        assert_eq!(
            link.addr() - container.addr(),
            offset_of!(Unsized<[u8; 4]>, link)
        );

        // SAFETY: `link` points into the live box.
        unsafe { (*link).next = link };

        // SAFETY: `container` is the pointer `Box::into_raw` returned, used once.
        let unsized_box = unsafe { Box::from_raw(container) };
        assert_eq!(unsized_box.data, [1, 2, 3, 4]);
        assert_eq!(unsized_box.link.next.addr(), link.addr());
    }

    #[test]
    fn projection_initializes_uninit_container() {
        let mut slot = MaybeUninit::<Node>::uninit();
        let container = slot.as_mut_ptr();

        // SAFETY: `container` has room for a `Node`, and projecting reads nothing.
        let link = unsafe { Node::raw_get_field(container) };
        // SAFETY: all three fields are written before `assume_init`, two of them through
        // the container pointer that `field_container_of` returns.
        let node = unsafe {
            link.write(Link::new());
            let back = Node::field_container_of(link);
            (&raw mut (*back).value).write(9);
            (&raw mut (*back).tail).write([7; 3]);
            slot.assume_init()
        };
        assert_eq!(node.value, 9);
        assert_eq!(node.tail, [7; 3]);
        assert!(node.link.next.is_null());
    }
}
