use has_field::{Field, HasField};

struct Link;

impl<T> Field<T> for Link {}

struct Up<T>(*mut T);

impl<C, T> Field<C> for Up<T> {}

#[derive(HasField)]
struct Tree {
    #[field]
    parent: Up<Self>,
    #[field]
    grandparent: Up<Tree>,
}

fn main() {}
