// An entry yielded by `RcuList::iter` borrows the guard: once the read-side critical
// section ends, a writer may reclaim the entry, so the reference must not outlive it.
use rcu::{HasField, ListLinks, RcuList};

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Item {
    value: u64,
    #[field]
    links: ListLinks,
}

fn main() {
    let list: RcuList<Item> = RcuList::new();
    list.lock().push_back(Box::new(Item { value: 1, links: ListLinks::new() }));

    let guard = rcu::read_lock();
    let first = list.iter(&guard).next().unwrap();
    drop(guard);
    println!("{}", first.value);
}
