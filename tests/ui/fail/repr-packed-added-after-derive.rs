// An attribute macro below the derive runs after it and adds `#[repr(packed)]`, which the
// derive never sees. The never-called function the derive emits borrows each marked
// field, and that borrow is an error for a field a packed layout may leave unaligned.
use has_field::{Field, HasField};
use test_macros::pack_after_derive;

struct Link {
    _next: *mut Link,
}

impl<T> Field<T> for Link {}

#[derive(HasField)]
#[pack_after_derive]
struct Node {
    value: u8,
    #[field]
    link: Link,
}

fn main() {
    let node = Node {
        value: 1,
        link: Link {
            _next: core::ptr::null_mut(),
        },
    };
    let _ = node.value;
}
