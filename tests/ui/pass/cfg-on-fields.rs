#[path = "../support.rs"]
mod support;

use core::mem::offset_of;

use has_field::{Field, HasField};
use support::{Link, check_round_trip};

struct Counter(u64);

impl<T> Field<T> for Counter {}

struct Unmarked(u64);

// Only fields that remain after `cfg` is evaluated get an impl, so the two `Link` fields
// do not clash, and `cfg_attr` may add or leave out `#[field]`.
#[derive(HasField)]
struct Node {
    #[cfg(any())]
    #[field]
    removed: Link,
    #[cfg(all())]
    #[field]
    kept: Link,
    #[cfg_attr(all(), field)]
    counter: Counter,
    #[cfg_attr(any(), field)]
    unmarked: Unmarked,
}

fn main() {
    let mut node = Node { kept: Link::new(), counter: Counter(1), unmarked: Unmarked(2) };
    check_round_trip::<Node, Link>(&mut node, offset_of!(Node, kept));
    check_round_trip::<Node, Counter>(&mut node, offset_of!(Node, counter));
    assert_eq!((node.counter.0, node.unmarked.0), (1, 2));
}
