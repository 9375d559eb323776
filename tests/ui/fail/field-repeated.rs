use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

#[derive(HasField)]
struct Node {
    #[field]
    #[field]
    link: Link,
}

fn main() {}
