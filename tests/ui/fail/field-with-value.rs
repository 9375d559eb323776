use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

#[derive(HasField)]
struct Node {
    #[field = 3]
    link: Link,
}

fn main() {}
