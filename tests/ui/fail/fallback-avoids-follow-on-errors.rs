use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

// The derive rejects the struct, but still emits the impl for `link`, so the use in
// `main` adds no "trait bound not satisfied" error to the real one.
#[derive(HasField)]
struct Node {
    #[field = "yes"]
    link: Link,
}

fn main() {
    let mut node = Node { link: Link };
    let _ = unsafe { Node::raw_get_field(&raw mut node) };
}
