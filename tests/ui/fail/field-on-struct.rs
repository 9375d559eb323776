use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

#[derive(HasField)]
#[field]
struct Node {
    #[field]
    link: Link,
}

fn main() {}
