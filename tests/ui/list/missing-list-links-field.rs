// A list links its entries through their `ListLinks<ID>` field, so the entry type must
// have one for the list's `ID`.
use rcu::{HasField, ListLinks, RcuList};

struct Plain {
    value: u64,
}

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct OnListZero {
    value: u64,
    #[field]
    links: ListLinks<0>,
}

fn count_plain(_list: &RcuList<Plain>) {}

fn count_on_list_one(_list: &RcuList<OnListZero, 1>) {}

fn main() {}
