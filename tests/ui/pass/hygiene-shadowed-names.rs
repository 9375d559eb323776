#[path = "../support.rs"]
mod support;

mod shadowing {
    #![allow(dead_code, non_camel_case_types)]

    use super::support::{Link, ListLink};

    // Every name that generated code could reach for is taken by something else here.
    mod core {}
    mod std {}
    mod has_field {}
    type Result = ();
    type Option = ();
    struct Box;
    struct Sized;
    struct usize;
    trait HasField {}
    trait Field {}

    #[derive(::has_field::HasField)]
    pub struct Node {
        pub value: u8,
        #[field]
        pub link: Link,
        #[field]
        pub other: ListLink<1>,
    }
}

use core::mem::offset_of;

use shadowing::Node;
use support::{Link, ListLink, check_round_trip};

fn main() {
    let mut node = Node { value: 1, link: Link::new(), other: ListLink::new() };
    check_round_trip::<Node, Link>(&mut node, offset_of!(Node, link));
    check_round_trip::<Node, ListLink<1>>(&mut node, offset_of!(Node, other));
    assert_eq!(node.value, 1);
}
