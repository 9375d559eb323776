// A borrow from `dereference` lives only as long as the guard it was made under.

fn main() {
    let ptr = rcu::Rcu::new(Box::new(1));
    let value = {
        let guard = rcu::read_lock();
        ptr.dereference(&guard).unwrap()
    };
    println!("{value}");
}
