#[path = "../support.rs"]
mod support;

use core::mem::offset_of;

use has_field::{Field, HasField};
use support::{Link, check_round_trip};

struct Slot<'a>(&'a mut u32);

impl<'a, T: ?Sized> Field<T> for Slot<'a> {}

#[derive(HasField)]
struct Borrowing<'a, 'b: 'a> {
    text: &'a str,
    #[field]
    link: Link,
    #[field]
    slot: Slot<'b>,
}

fn main() {
    let mut count = 3;
    let text = String::from("borrowed");
    let mut borrowing = Borrowing { text: &text, link: Link::new(), slot: Slot(&mut count) };

    check_round_trip::<Borrowing, Link>(&mut borrowing, offset_of!(Borrowing, link));
    check_round_trip::<Borrowing, Slot>(&mut borrowing, offset_of!(Borrowing, slot));

    *borrowing.slot.0 += 1;
    assert_eq!(borrowing.text, "borrowed");
    assert_eq!(count, 4);
}
