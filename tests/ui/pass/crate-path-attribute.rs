#[path = "../support.rs"]
mod support;

use core::mem::offset_of;

use support::{Link, check_round_trip};

/// Stands in for a crate such as `rcu` that re-exports the trait and the derive.
mod facade {
    pub mod has_field {
        pub use ::has_field::{Field, HasField};
    }
    pub use self::has_field::HasField;
}

struct Tag(u8);

impl facade::has_field::Field<ThroughFacade> for Tag {}

#[derive(facade::HasField)]
#[has_field(crate = "crate::facade::has_field")]
struct ThroughFacade {
    #[field]
    tag: Tag,
    #[field]
    link: Link,
}

#[derive(::has_field::HasField)]
#[has_field(crate = "::has_field")]
struct Absolute {
    #[field]
    link: Link,
}

fn main() {
    let mut through_facade = ThroughFacade { tag: Tag(1), link: Link::new() };
    check_round_trip::<ThroughFacade, Link>(&mut through_facade, offset_of!(ThroughFacade, link));
    check_round_trip::<ThroughFacade, Tag>(&mut through_facade, offset_of!(ThroughFacade, tag));

    let mut absolute = Absolute { link: Link::new() };
    check_round_trip::<Absolute, Link>(&mut absolute, offset_of!(Absolute, link));

    assert_eq!(through_facade.tag.0, 1);
}
