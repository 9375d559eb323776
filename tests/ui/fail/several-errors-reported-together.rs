use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

// Every mistake in one input is reported, not only the first.
#[derive(HasField)]
#[repr(packed)]
#[has_field(krate = "x")]
struct Node {
    #[field(x)]
    first: Link,
    #[field]
    second: Link,
}

fn main() {}
