#[path = "../support.rs"]
mod support;

use core::fmt::Debug;
use core::mem::offset_of;

use has_field::HasField;
use support::{Link, check_round_trip};

#[derive(HasField)]
struct Packet<T: ?Sized> {
    len: usize,
    #[field]
    link: Link,
    payload: T,
}

/// Projects an unsized packet and checks the field offset against its sized original.
fn check_unsized_projection<T: ?Sized>(packet: Box<Packet<T>>, offset: usize) -> Box<Packet<T>> {
    let container = Box::into_raw(packet);
    // SAFETY: `container` comes from `Box::into_raw`, with valid metadata.
    let link = unsafe { Packet::raw_get_field(container) };
    assert_eq!(link.addr() - container.addr(), offset);
    // SAFETY: `link` points into the live box.
    unsafe { (*link).next = link };
    // SAFETY: `container` is the pointer `Box::into_raw` returned, used once.
    unsafe { Box::from_raw(container) }
}

fn main() {
    let mut sized = Packet { len: 3, link: Link::new(), payload: [1u8, 2, 3] };
    let offset = offset_of!(Packet<[u8; 3]>, link);
    check_round_trip::<Packet<[u8; 3]>, Link>(&mut sized, offset);

    let slice: Box<Packet<[u8]>> = Box::new(Packet { len: 3, link: Link::new(), payload: [1u8, 2, 3] });
    let slice = check_unsized_projection(slice, offset);
    assert_eq!((slice.len, &slice.payload), (3, &[1u8, 2, 3][..]));
    assert!(!slice.link.next.is_null());

    let object: Box<Packet<dyn Debug>> = Box::new(Packet { len: 3, link: Link::new(), payload: [1u8, 2, 3] });
    let object = check_unsized_projection(object, offset);
    assert_eq!(format!("{:?}", &object.payload), "[1, 2, 3]");
}
