use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

#[derive(HasField)]
struct Node<T> {
    #[field]
    value: T,
    #[field]
    link: Link,
}

fn main() {}
