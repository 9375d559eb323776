#[path = "../support.rs"]
mod support;

use core::mem::offset_of;
use core::ptr;

use has_field::{Field, HasField};
use support::check_round_trip;

/// A pointer to the parent container.
struct Up<T>(*mut T);

/// A pointer to the first child container.
struct Down<T>(*mut T);

impl<C, T> Field<C> for Up<T> {}
impl<C, T> Field<C> for Down<T> {}

#[derive(HasField)]
struct Tree {
    #[field]
    parent: Up<Self>,
    #[field]
    child: Down<Tree>,
}

#[derive(HasField)]
struct Chain<T> {
    value: T,
    #[field]
    next: Up<Chain<T>>,
    #[field]
    first: Down<Self>,
}

fn main() {
    let mut tree = Tree { parent: Up(ptr::null_mut()), child: Down(ptr::null_mut()) };
    check_round_trip::<Tree, Up<Tree>>(&mut tree, offset_of!(Tree, parent));
    check_round_trip::<Tree, Down<Tree>>(&mut tree, offset_of!(Tree, child));

    let mut chain = Chain { value: 5u16, next: Up(ptr::null_mut()), first: Down(ptr::null_mut()) };
    check_round_trip::<Chain<u16>, Up<Chain<u16>>>(&mut chain, offset_of!(Chain<u16>, next));
    check_round_trip::<Chain<u16>, Down<Chain<u16>>>(&mut chain, offset_of!(Chain<u16>, first));

    assert!(tree.parent.0.is_null() && tree.child.0.is_null());
    assert_eq!(chain.value, 5);
    assert!(chain.next.0.is_null() && chain.first.0.is_null());
}
