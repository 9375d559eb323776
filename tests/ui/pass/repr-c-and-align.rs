#[path = "../support.rs"]
mod support;

use core::mem::{align_of, offset_of};

use has_field::HasField;
use support::{Link, check_round_trip};

#[derive(HasField)]
#[repr(C)]
struct Ordered {
    flag: u8,
    #[field]
    link: Link,
}

#[derive(HasField)]
#[repr(align(64))]
struct CacheAligned {
    #[field]
    link: Link,
    counter: u64,
}

#[derive(HasField)]
#[repr(C, align(16))]
struct Both(u8, #[field] Link);

fn main() {
    let mut ordered = Ordered { flag: 1, link: Link::new() };
    assert_eq!(offset_of!(Ordered, link), align_of::<Link>());
    check_round_trip::<Ordered, Link>(&mut ordered, offset_of!(Ordered, link));

    let mut aligned = CacheAligned { link: Link::new(), counter: 2 };
    assert_eq!(align_of::<CacheAligned>(), 64);
    check_round_trip::<CacheAligned, Link>(&mut aligned, offset_of!(CacheAligned, link));

    let mut both = Both(3, Link::new());
    assert_eq!(align_of::<Both>(), 16);
    check_round_trip::<Both, Link>(&mut both, offset_of!(Both, 1));

    assert_eq!((ordered.flag, aligned.counter, both.0), (1, 2, 3));
}
