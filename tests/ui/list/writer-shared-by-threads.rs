// A `ListWriter` is the held writer lock: it cannot be handed to another thread, and two
// threads cannot write through one writer at once.
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
    std::thread::scope(|scope| {
        scope.spawn(|| writer.push_back(Box::new(Item { links: ListLinks::new() })));
        writer.push_front(Box::new(Item { links: ListLinks::new() }));
    });
}
