use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

#[derive(HasField)]
#[repr(C, packed)]
struct Node {
    value: u8,
    #[field]
    link: Link,
}

fn main() {}
