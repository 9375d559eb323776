use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

#[derive(HasField)]
#[has_field(crate = has_field)]
struct Node {
    #[field]
    link: Link,
}

fn main() {}
