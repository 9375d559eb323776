use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

#[derive(HasField)]
union Bits {
    #[field]
    link: core::mem::ManuallyDrop<Link>,
    raw: u64,
}

fn main() {}
