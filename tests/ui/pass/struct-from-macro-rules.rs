#[path = "../support.rs"]
mod support;

use core::mem::offset_of;

use has_field::HasField;
use support::{Link, ListLink, check_round_trip};

// Field names and types arrive as fragments, which may reach the derive wrapped in
// invisible groups.
macro_rules! linked_struct {
    ($name:ident { $value:ident: $value_type:ty, $link:ident: $link_type:ty $(,)? }) => {
        #[derive(HasField)]
        struct $name {
            $value: $value_type,
            #[field]
            $link: $link_type,
        }
    };
}

linked_struct!(Frame { size: u32, link: Link });

// The whole item arrives as one fragment.
macro_rules! with_derive {
    ($item:item) => {
        #[derive(HasField)]
        $item
    };
}

with_derive! {
    struct Page {
        number: u32,
        #[field]
        free: ListLink<0>,
        #[field]
        dirty: ListLink<1>,
    }
}

// The derive and a local variable of the macro live in the macro's hygiene context.
macro_rules! tuple_struct {
    ($name:ident, $ty:ty) => {
        #[derive(HasField)]
        struct $name(u8, #[field] $ty);

        fn round_trip_tuple() {
            let mut value = $name(1, <$ty>::new());
            check_round_trip::<$name, $ty>(&mut value, offset_of!($name, 1));
            assert_eq!(value.0, 1);
        }
    };
}

tuple_struct!(Cell, Link);

fn main() {
    let mut frame = Frame { size: 4, link: Link::new() };
    check_round_trip::<Frame, Link>(&mut frame, offset_of!(Frame, link));

    let mut page = Page { number: 2, free: ListLink::new(), dirty: ListLink::new() };
    check_round_trip::<Page, ListLink<0>>(&mut page, offset_of!(Page, free));
    check_round_trip::<Page, ListLink<1>>(&mut page, offset_of!(Page, dirty));

    round_trip_tuple();
    assert_eq!((frame.size, page.number), (4, 2));
}
