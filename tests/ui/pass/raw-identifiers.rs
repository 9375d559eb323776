#[path = "../support.rs"]
mod support;

use core::mem::offset_of;

use has_field::{Field, HasField};
use support::{Link, check_round_trip};

#[allow(non_camel_case_types)]
struct r#ref(u8);

impl<T> Field<T> for r#ref {}

#[derive(HasField)]
struct Token {
    r#type: u8,
    #[field]
    r#match: Link,
    #[field]
    r#as: r#ref,
}

fn main() {
    let mut token = Token { r#type: 1, r#match: Link::new(), r#as: r#ref(2) };
    check_round_trip::<Token, Link>(&mut token, offset_of!(Token, r#match));
    check_round_trip::<Token, r#ref>(&mut token, offset_of!(Token, r#as));
    assert_eq!((token.r#type, token.r#as.0), (1, 2));
}
