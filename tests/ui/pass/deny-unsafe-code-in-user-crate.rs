// The generated impls are unsafe, but they are macro output, so a crate that denies
// `unsafe_code` for its own code can still derive `HasField`. Calling the projections
// needs `unsafe`, so such a crate hands its types to code that may.
#![deny(unsafe_code)]

use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

#[derive(HasField)]
struct Node {
    value: u8,
    #[field]
    link: Link,
}

fn exposes<T: HasField<T, F>, F: Field<T>>() {}

fn main() {
    exposes::<Node, Link>();
    let node = Node { value: 1, link: Link };
    let Node { value, link: Link } = node;
    assert_eq!(value, 1);
}
