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

struct Links<const ID: u8>;

impl<T, const ID: u8> Field<T> for Links<ID> {}

// The other field's type depends on the parameters too; the two impls still overlap for
// `Tagged<Links<0>, 0>`.
#[derive(HasField)]
struct Tagged<T, const ID: u8> {
    #[field]
    value: T,
    #[field]
    links: Links<ID>,
}

fn main() {}
