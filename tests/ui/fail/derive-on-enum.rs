use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

#[derive(HasField)]
enum Message {
    Text(#[field] Link),
    Empty,
}

fn main() {}
