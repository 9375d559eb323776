use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

// The `repr` arguments arrive as a `$repr:meta` fragment, which may reach the derive
// wrapped in an invisible group.
macro_rules! with_repr {
    ($repr:meta) => {
        #[derive(HasField)]
        #[repr($repr)]
        struct Node {
            value: u8,
            #[field]
            link: Link,
        }
    };
}

with_repr!(packed);

// The whole attribute arrives as a fragment.
macro_rules! with_attribute {
    (#[$attribute:meta]) => {
        #[derive(HasField)]
        #[$attribute]
        struct Other {
            value: u8,
            #[field]
            link: Link,
        }
    };
}

with_attribute!(#[repr(packed(1))]);

fn main() {}
