use rcu::{HasField, RcuHead};

#[derive(HasField)]
struct Session {
    #[field]
    rcu_head: RcuHead,
    #[field]
    second_head: RcuHead,
}

fn main() {}
