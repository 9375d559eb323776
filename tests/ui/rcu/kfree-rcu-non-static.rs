// `kfree_rcu` drops the box at an unknown later time, so the value may not borrow.

use rcu::{HasField, RcuHead};

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Node<'a> {
    #[field]
    head: RcuHead,
    name: &'a str,
}

fn main() {
    let name = String::from("local");
    rcu::kfree_rcu(Box::new(Node {
        head: RcuHead::new(),
        name: &name,
    }));
}
