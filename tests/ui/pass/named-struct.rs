#[path = "../support.rs"]
mod support;

use core::mem::offset_of;

use has_field::HasField;
use support::{Link, check_round_trip};

#[derive(HasField)]
struct Task {
    id: u32,
    #[field]
    link: Link,
    name: &'static str,
}

fn main() {
    let mut task = Task { id: 1, link: Link::new(), name: "first" };
    check_round_trip::<Task, Link>(&mut task, offset_of!(Task, link));
    assert_eq!((task.id, task.name), (1, "first"));
}
