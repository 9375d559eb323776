#[path = "../support.rs"]
mod support;

mod bare {
    #![no_implicit_prelude]

    #[derive(::has_field::HasField)]
    pub struct Node<T> {
        pub value: T,
        #[field]
        pub link: super::support::Link,
        #[field]
        pub numbered: super::support::ListLink<3>,
    }

    #[derive(::has_field::HasField)]
    pub struct Pair(pub u8, #[field] pub super::support::Link);
}

use core::mem::offset_of;

use bare::{Node, Pair};
use support::{Link, ListLink, check_round_trip};

fn main() {
    let mut node = Node { value: 1u32, link: Link::new(), numbered: ListLink::new() };
    check_round_trip::<Node<u32>, Link>(&mut node, offset_of!(Node<u32>, link));
    check_round_trip::<Node<u32>, ListLink<3>>(&mut node, offset_of!(Node<u32>, numbered));

    let mut pair = Pair(2, Link::new());
    check_round_trip::<Pair, Link>(&mut pair, offset_of!(Pair, 1));

    assert_eq!((node.value, pair.0), (1, 2));
}
