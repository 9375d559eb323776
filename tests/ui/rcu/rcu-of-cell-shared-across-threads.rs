// Every thread that shares an `Rcu` can borrow its value, so the value must be `Sync`.

use std::cell::Cell;
use std::sync::Arc;

fn main() {
    let ptr = Arc::new(rcu::Rcu::new(Box::new(Cell::new(1_u8))));
    std::thread::spawn(move || {
        let guard = rcu::read_lock();
        ptr.dereference(&guard).unwrap().set(2);
    });
}
