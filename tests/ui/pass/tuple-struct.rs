#[path = "../support.rs"]
mod support;

use core::mem::offset_of;

use has_field::{Field, HasField};
use support::{Link, check_round_trip};

struct Counter(u64);

impl<T> Field<T> for Counter {}

#[derive(HasField)]
struct Pair(u8, #[field] Link, #[field] Counter);

fn main() {
    let mut pair = Pair(1, Link::new(), Counter(2));
    check_round_trip::<Pair, Link>(&mut pair, offset_of!(Pair, 1));
    check_round_trip::<Pair, Counter>(&mut pair, offset_of!(Pair, 2));
    assert_eq!((pair.0, pair.2.0), (1, 2));
}
