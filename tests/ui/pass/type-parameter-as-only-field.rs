#[path = "../support.rs"]
mod support;

use core::mem::offset_of;

use has_field::{Field, HasField};
use support::check_round_trip;

struct Counter(u64);

impl<T> Field<T> for Counter {}

// One marked field whose type is a type parameter cannot overlap with another impl.
// The impl applies where `T: Field<Holder<T>>`.
#[derive(HasField)]
struct Holder<T> {
    tag: u8,
    #[field]
    value: T,
}

fn main() {
    let mut holder = Holder { tag: 1, value: Counter(2) };
    check_round_trip::<Holder<Counter>, Counter>(&mut holder, offset_of!(Holder<Counter>, value));
    assert_eq!((holder.tag, holder.value.0), (1, 2));
}
