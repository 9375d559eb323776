//! `RcuBox`: borrows that outlive the box, moves across threads, deferred drops.

use rcu::RcuBox;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;

struct Counted {
    value: u32,
    drops: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn counted(value: u32, drops: &Arc<AtomicUsize>) -> RcuBox<Counted> {
    RcuBox::new(Counted {
        value,
        drops: Arc::clone(drops),
    })
}

#[test]
fn borrow_outlives_box() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = rcu::read_lock();
    let borrowed = {
        let boxed = counted(5, &drops);
        boxed.with_rcu(&guard)
    };
    assert_eq!(borrowed.value, 5);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "dropped inside the section"
    );
    drop(guard);
    rcu::rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn moved_box_dropped_elsewhere() {
    let drops = Arc::new(AtomicUsize::new(0));
    let boxed = counted(9, &drops);
    let guard = rcu::read_lock();
    let borrowed = boxed.with_rcu(&guard);

    let (sender, receiver) = mpsc::channel();
    let owner = thread::spawn(move || {
        let boxed: RcuBox<Counted> = receiver.recv().unwrap();
        assert_eq!(boxed.value, 9);
        drop(boxed);
    });
    sender.send(boxed).unwrap();
    owner.join().unwrap();

    // The new owner dropped the box, but this section began before the drop.
    assert_eq!(borrowed.value, 9);
    drop(guard);
    rcu::rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn many_boxes_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let boxes: Vec<_> = (0..1000).map(|value| counted(value, &drops)).collect();
    let sum: u32 = boxes.iter().map(|boxed| boxed.value).sum();
    assert_eq!(sum, 999 * 1000 / 2);
    drop(boxes);
    rcu::rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1000);
}

#[test]
fn debug_shows_value() {
    let boxed = RcuBox::new(3_u8);
    assert_eq!(format!("{boxed:?}"), "RcuBox(3)");
}
