use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

#[derive(HasField)]
struct Marker;

fn main() {}
