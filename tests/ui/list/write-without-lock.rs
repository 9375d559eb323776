// Inserting and removing go through the `ListWriter` that `RcuList::lock` returns, so a
// second writer cannot change the list while another one holds the lock.
use rcu::{HasField, ListLinks, RcuList};

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Item {
    #[field]
    links: ListLinks,
}

fn main() {
    let list: RcuList<Item> = RcuList::new();
    let mut writer = list.lock();
    writer.push_back(Box::new(Item { links: ListLinks::new() }));

    // A second writer that skips the lock.
    list.push_front(Box::new(Item { links: ListLinks::new() }));
    drop(writer);
}
