use rcu::{HasField, ListLinks};

const BY_NAME: u64 = 0;

#[derive(HasField)]
struct Entry {
    #[field]
    by_name: ListLinks<BY_NAME>,
    #[field]
    by_id: ListLinks<BY_NAME>,
}

fn main() {}
