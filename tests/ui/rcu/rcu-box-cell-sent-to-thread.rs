// The previous owner may still read a borrow from `with_rcu`, so moving an `RcuBox`
// to another thread needs `T: Sync`, which `Cell` is not.

use std::cell::Cell;

fn main() {
    let boxed = rcu::RcuBox::new(Cell::new(1_u8));
    std::thread::spawn(move || boxed.set(2));
}
