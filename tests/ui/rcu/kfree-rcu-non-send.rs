// `kfree_rcu` drops the box on the callback thread, so the value must be `Send`.

use rcu::{HasField, RcuHead};
use std::rc::Rc;

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Node {
    #[field]
    head: RcuHead,
    shared: Rc<u8>,
}

fn main() {
    rcu::kfree_rcu(Box::new(Node {
        head: RcuHead::new(),
        shared: Rc::new(1),
    }));
}
