//! Unit tests of `Rcu` and `RcuOld`, small enough for Miri.

use super::*;
use crate::reader::read_lock_held;
use crate::{HasField, RcuBox, RcuHead};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::thread;

const LIVE: u64 = 0x5AFE_5AFE_5AFE_5AFE;
const FREED: u64 = 0xDEAD_DEAD_DEAD_DEAD;

/// A value that counts its drops and poisons itself when dropped.
struct Tracked {
    canary: u64,
    value: u64,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    fn new(value: u64, drops: &Arc<AtomicUsize>) -> Self {
        Tracked {
            canary: LIVE,
            value,
            drops: Arc::clone(drops),
        }
    }

    fn read(&self) -> u64 {
        assert_eq!(self.canary, LIVE, "read a dropped value");
        self.value
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        assert_eq!(self.canary, LIVE, "dropped a value twice");
        self.canary = FREED;
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A `Tracked` with its own `RcuHead`, for the `Defer` policy.
#[derive(HasField)]
struct Node {
    #[field]
    head: RcuHead,
    tracked: Tracked,
}

impl Node {
    fn boxed(value: u64, drops: &Arc<AtomicUsize>) -> Box<Node> {
        Box::new(Node {
            head: RcuHead::new(),
            tracked: Tracked::new(value, drops),
        })
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn drops(counter: &Arc<AtomicUsize>) -> usize {
    counter.load(Ordering::SeqCst)
}

/// Runs every queued callback, then checks that `expected` values have been dropped.
fn wait_for_drops(counter: &Arc<AtomicUsize>, expected: usize) {
    crate::rcu_barrier();
    assert_eq!(counter.load(Ordering::SeqCst), expected);
}

#[test]
fn new_then_dereference() {
    let count = counter();
    let ptr = Rcu::new(Box::new(Tracked::new(1, &count)));
    let guard = read_lock();
    assert_eq!(ptr.dereference(&guard).map(Tracked::read), Some(1));
}

#[test]
fn null_dereferences_to_none() {
    let ptr = Rcu::<Box<u32>>::null();
    let guard = read_lock();
    assert!(ptr.dereference(&guard).is_none());
    drop(guard);
    assert!(Rcu::<Arc<u32>>::default().take().is_none());
}

#[test]
fn swap_hands_back_old_value() {
    let count = counter();
    let ptr = Rcu::new(Box::new(Tracked::new(1, &count)));

    let old = ptr.swap(Box::new(Tracked::new(2, &count))).unwrap();
    assert_eq!(drops(&count), 0);
    let old = old.synchronize();
    assert_eq!(old.read(), 1);
    drop(old);
    assert_eq!(drops(&count), 1);

    let guard = read_lock();
    assert_eq!(ptr.dereference(&guard).map(Tracked::read), Some(2));
    drop(guard);
    drop(ptr);
    assert_eq!(drops(&count), 2);
}

#[test]
fn old_value_dropped_once() {
    let count = counter();
    let ptr = Rcu::new(Box::new(Tracked::new(1, &count)));
    let old = ptr.take().unwrap();
    assert!(ptr.take().is_none());
    drop(old);
    assert_eq!(drops(&count), 1);
    drop(ptr);
    assert_eq!(drops(&count), 1);
}

#[test]
fn borrow_outlives_swap_in_section() {
    let count = counter();
    let ptr = Arc::new(Rcu::new(Box::new(Tracked::new(1, &count))));

    let guard = read_lock();
    let seen = ptr.dereference(&guard).unwrap();
    let updater = {
        let ptr = Arc::clone(&ptr);
        let count = Arc::clone(&count);
        // The old value's drop waits for this thread's section.
        thread::spawn(move || drop(ptr.swap(Box::new(Tracked::new(2, &count)))))
    };
    assert_eq!(seen.read(), 1);
    drop(guard);
    updater.join().unwrap();
    assert_eq!(drops(&count), 1);
}

#[test]
fn compare_exchange_success_and_failure() {
    let count = counter();
    let ptr = Rcu::new(Box::new(Tracked::new(1, &count)));

    let guard = read_lock();
    let seen = ptr.dereference(&guard);
    let old = ptr
        .compare_exchange(seen, Box::new(Tracked::new(2, &count)))
        .ok()
        .unwrap()
        .unwrap();

    let rejected = ptr
        .compare_exchange(seen, Box::new(Tracked::new(3, &count)))
        .err()
        .unwrap();
    assert_eq!(rejected.read(), 3);
    drop(rejected);
    assert_eq!(
        drops(&count),
        1,
        "the rejected value is dropped, the old one waits"
    );

    let rejected_null = ptr
        .compare_exchange(None, Box::new(Tracked::new(4, &count)))
        .err()
        .unwrap();
    drop(rejected_null);
    drop(guard);

    assert_eq!(old.synchronize().read(), 1);
    assert_eq!(drops(&count), 3);
}

#[test]
fn compare_exchange_from_null() {
    let ptr = Rcu::<Box<u8>>::null();
    assert!(
        ptr.compare_exchange(None, Box::new(1))
            .ok()
            .unwrap()
            .is_none()
    );
    assert_eq!(ptr.dereference(&read_lock()), Some(&1));
}

#[test]
fn update_builds_from_current() {
    let ptr = Rcu::new(Box::new(10_u64));
    let old = ptr
        .update(|current| Box::new(current.unwrap() + 1))
        .unwrap();
    assert_eq!(*old.synchronize(), 10);
    assert_eq!(ptr.dereference(&read_lock()), Some(&11));

    let empty = Rcu::<Box<u64>>::null();
    assert!(
        empty
            .update(|current| Box::new(current.map_or(0, |v| v + 1)))
            .is_none()
    );
    assert_eq!(empty.dereference(&read_lock()), Some(&0));
}

#[test]
fn concurrent_updates_lose_nothing() {
    let threads = if cfg!(miri) { 2 } else { 4 };
    let rounds = if cfg!(miri) { 3 } else { 200 };
    let ptr = Arc::new(Rcu::new(Box::new(0_u64)));

    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let ptr = Arc::clone(&ptr);
            thread::spawn(move || {
                for _ in 0..rounds {
                    drop(ptr.update(|current| Box::new(current.unwrap() + 1)));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert_eq!(ptr.dereference(&read_lock()), Some(&(threads * rounds)));
}

#[test]
fn replace_and_copy_update_through_pin() {
    let count = counter();
    let mut ptr = Rcu::new(Box::new(Tracked::new(1, &count)));

    let old = Pin::new(&mut ptr).replace(Box::new(Tracked::new(2, &count)));
    assert_eq!(old.unwrap().synchronize().read(), 1);

    let old = Pin::new(&mut ptr).copy_update(|current| {
        let next = current.unwrap().read() * 10;
        Box::new(Tracked::new(next, &count))
    });
    drop(old);
    assert_eq!(ptr.dereference(&read_lock()).map(Tracked::read), Some(20));
    assert_eq!(drops(&count), 2);

    let mut empty = Rcu::<Box<u8>>::null();
    assert!(Pin::new(&mut empty).replace(Box::new(1)).is_none());
}

#[test]
fn arc_pointer_keeps_clones_alive() {
    let count = counter();
    let shared = Arc::new(Tracked::new(1, &count));
    let ptr = Rcu::new(Arc::clone(&shared));

    let old = ptr.swap(Arc::new(Tracked::new(2, &count))).unwrap();
    let back = old.synchronize();
    assert!(Arc::ptr_eq(&back, &shared));
    drop(back);
    assert_eq!(drops(&count), 0, "`shared` still holds the first value");
    drop(shared);
    assert_eq!(drops(&count), 1);
    drop(ptr);
    assert_eq!(drops(&count), 2);
}

#[test]
fn defer_policy_never_blocks_in_section() {
    let count = counter();
    let ptr: Rcu<Box<Node>, Defer> = Rcu::from(Node::boxed(1, &count));

    let guard = read_lock();
    let seen = ptr.dereference(&guard).unwrap();
    drop(ptr.swap(Node::boxed(2, &count)));
    drop(ptr);
    assert_eq!(seen.tracked.read(), 1, "freed under a reader");
    drop(guard);

    wait_for_drops(&count, 2);
}

#[test]
fn defer_drop_under_wait_policy() {
    let count = counter();
    let ptr = Rcu::new(RcuBox::new(Tracked::new(1, &count)));
    let guard = read_lock();
    let seen = ptr.dereference(&guard).unwrap();
    ptr.take().unwrap().defer_drop();
    assert_eq!(seen.read(), 1);
    drop(guard);
    wait_for_drops(&count, 1);
}

#[test]
fn deferred_rcu_alias() {
    let count = counter();
    let ptr: DeferredRcu<Tracked> = Rcu::from(RcuBox::new(Tracked::new(1, &count)));
    let guard = read_lock();
    let old = ptr.update(|current| RcuBox::new(Tracked::new(current.unwrap().read() + 1, &count)));
    drop(old);
    assert_eq!(ptr.dereference(&guard).map(Tracked::read), Some(2));
    drop(ptr);
    drop(guard);
    wait_for_drops(&count, 2);
}

#[test]
fn raw_round_trips() {
    let count = counter();
    let ptr = Rcu::new(Box::new(Tracked::new(1, &count)));
    let raw = ptr.into_raw();
    assert_eq!(drops(&count), 0);

    // SAFETY: `raw` came from `Rcu::into_raw` of the same type.
    let ptr = unsafe { Rcu::<Box<Tracked>>::from_raw(raw) };
    let raw = ptr.take().unwrap().into_raw();
    assert!(Rcu::<Box<Tracked>>::null().into_raw().is_null());

    let guard = read_lock();
    // SAFETY: `raw` is owned by this test and reclaimed below, after the guard.
    assert_eq!(unsafe { rcu_borrow(raw, &guard) }.read(), 1);
    drop(guard);

    // SAFETY: `raw` came from `RcuOld::into_raw` and is taken back once.
    drop(unsafe { RcuOld::<Box<Tracked>>::from_raw(raw) });
    assert_eq!(drops(&count), 1);
}

#[test]
fn rcu_box_raw_round_trips() {
    let count = counter();
    let raw = RcuBox::new(Tracked::new(7, &count)).into_raw();
    // SAFETY: `raw` came from `RcuBox::into_raw`, and is reclaimed only below.
    assert_eq!(unsafe { <RcuBox<Tracked>>::borrow(raw) }.read(), 7);
    // SAFETY: as above, taken back once.
    let boxed = unsafe { RcuBox::<Tracked>::from_raw(raw) };
    assert_eq!(boxed.read(), 7);
    drop(boxed);
    wait_for_drops(&count, 1);
}

#[test]
#[should_panic(expected = "Drop for rcu::RcuOld<P, Wait> called inside an RCU read-side")]
fn old_drop_in_section_panics() {
    let ptr = Rcu::new(Box::new(1));
    let old = ptr.swap(Box::new(2));
    let _guard = read_lock();
    drop(old);
}

#[test]
#[should_panic(expected = "Drop for rcu::Rcu<P, Wait> called inside an RCU read-side")]
fn rcu_drop_in_section_panics() {
    let ptr = Rcu::new(Box::new(1));
    let _guard = read_lock();
    drop(ptr);
}

#[test]
#[should_panic(expected = "rcu::RcuOld::synchronize() called inside an RCU read-side")]
fn synchronize_in_section_panics() {
    let ptr = Rcu::new(Box::new(1));
    let old = ptr.take().unwrap();
    let _guard = read_lock();
    let _ = old.synchronize();
}

#[test]
fn drop_while_unwinding_in_section_leaks() {
    let count = counter();
    let old = {
        let ptr = Rcu::new(Box::new(Tracked::new(1, &count)));
        ptr.take().unwrap()
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _guard = read_lock();
        let _old = old;
        panic!("test panic");
    }));
    assert!(result.is_err());
    assert!(!read_lock_held());
    assert_eq!(
        drops(&count),
        0,
        "the value is leaked, not dropped under a reader"
    );
}

#[test]
fn poll_completes_and_hands_back() {
    let ptr = Rcu::new(Box::new(5));
    let mut old = ptr.swap(Box::new(6)).unwrap();
    while !old.poll() {
        thread::yield_now();
    }
    assert!(old.poll(), "a completed poll stays completed");
    let boxed = old.try_into_inner().expect("the poll had completed");
    assert_eq!(*boxed, 5);
}

#[test]
fn poll_waits_for_reader_holding_value() {
    let ptr = Arc::new(Rcu::new(Box::new(1)));
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let reader = {
        let ptr = Arc::clone(&ptr);
        thread::spawn(move || {
            let guard = read_lock();
            let value = ptr.dereference(&guard).copied();
            entered_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            drop(guard);
            value
        })
    };
    entered_rx.recv().unwrap();

    let mut old = ptr.swap(Box::new(2)).unwrap();
    for _ in 0..if cfg!(miri) { 5 } else { 200 } {
        assert!(
            !old.poll(),
            "the poll completed under a reader that began before it"
        );
        thread::yield_now();
    }
    old = match old.try_into_inner() {
        Ok(_) => panic!("try_into_inner handed the value back under a reader"),
        Err(pending) => pending,
    };

    release_tx.send(()).unwrap();
    assert_eq!(reader.join().unwrap(), Some(1));
    assert_eq!(*old.synchronize(), 1);
}
