#[path = "../support.rs"]
mod support;

use core::mem::offset_of;

use has_field::HasField;
use support::{Link, ListLink, check_round_trip};

#[derive(HasField)]
struct Buffer<T: Copy = u8, const N: usize = 4> {
    data: [T; N],
    #[field]
    link: Link,
    #[field]
    numbered: ListLink<N>,
}

fn main() {
    let mut small: Buffer = Buffer { data: [1; 4], link: Link::new(), numbered: ListLink::new() };
    check_round_trip::<Buffer, Link>(&mut small, offset_of!(Buffer, link));
    check_round_trip::<Buffer, ListLink<4>>(&mut small, offset_of!(Buffer, numbered));

    let mut large = Buffer::<u64, 8> { data: [2; 8], link: Link::new(), numbered: ListLink::new() };
    check_round_trip::<Buffer<u64, 8>, Link>(&mut large, offset_of!(Buffer<u64, 8>, link));
    check_round_trip::<Buffer<u64, 8>, ListLink<8>>(
        &mut large,
        offset_of!(Buffer<u64, 8>, numbered),
    );

    assert_eq!((small.data[0], large.data[7]), (1, 2));
}
