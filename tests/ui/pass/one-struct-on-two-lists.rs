#[path = "../support.rs"]
mod support;

use core::mem::offset_of;
use core::ptr;

use has_field::HasField;
use support::{ListLink, check_round_trip};

#[derive(HasField)]
struct Request {
    id: u32,
    #[field]
    by_arrival: ListLink<0>,
    #[field]
    by_priority: ListLink<1>,
}

/// Links `requests` front to back through `ListLink<LIST>` and returns the ids read back
/// through `field_container_of`.
fn link_and_walk<const LIST: usize>(requests: &mut [Request]) -> Vec<u32>
where
    Request: HasField<Request, ListLink<LIST>>,
{
    let base = requests.as_mut_ptr();
    let mut head: *mut ListLink<LIST> = ptr::null_mut();
    for index in (0..requests.len()).rev() {
        // SAFETY: `index` is in bounds of `requests`, and every pointer derives from
        // `base`, which covers the whole slice.
        unsafe {
            let link = Request::raw_get_field(base.add(index));
            (*link).next = head;
            head = link;
        }
    }

    let mut ids = Vec::new();
    while !head.is_null() {
        // SAFETY: `head` came from `raw_get_field` on a pointer derived from `base`.
        unsafe {
            let request = Request::field_container_of(head);
            ids.push((*request).id);
            head = (*head).next;
        }
    }
    ids
}

fn main() {
    let mut single = Request { id: 0, by_arrival: ListLink::new(), by_priority: ListLink::new() };
    check_round_trip::<Request, ListLink<0>>(&mut single, offset_of!(Request, by_arrival));
    check_round_trip::<Request, ListLink<1>>(&mut single, offset_of!(Request, by_priority));

    let mut requests: Vec<Request> = (1..=3)
        .map(|id| Request { id, by_arrival: ListLink::new(), by_priority: ListLink::new() })
        .collect();
    assert_eq!(link_and_walk::<0>(&mut requests), [1, 2, 3]);
    requests.reverse();
    assert_eq!(link_and_walk::<1>(&mut requests), [3, 2, 1]);
}
