use rcu::{HasField, ListLinks};

#[derive(HasField)]
struct Entry {
    #[field]
    by_name: ListLinks<0>,
    #[field]
    by_age: ListLinks<1>,
    #[field]
    by_id: ListLinks<0>,
}

fn main() {}
