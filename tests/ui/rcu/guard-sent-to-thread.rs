// A read-side critical section belongs to the thread that entered it.

fn main() {
    let guard = rcu::read_lock();
    std::thread::spawn(move || drop(guard));
}
