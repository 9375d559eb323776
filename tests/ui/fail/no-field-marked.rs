use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

#[derive(HasField)]
struct Node {
    value: u32,
    link: Link,
}

fn main() {}
