// Readers share the value, so a borrow from `dereference` is read-only.

fn main() {
    let ptr = rcu::Rcu::new(Box::new(1));
    let guard = rcu::read_lock();
    *ptr.dereference(&guard).unwrap() = 2;
}
