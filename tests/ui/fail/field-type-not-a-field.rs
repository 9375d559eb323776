use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

struct Plain(u32);

#[derive(HasField)]
struct Node {
    #[field]
    plain: Plain,
}

fn main() {}
