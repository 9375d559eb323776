//! Unit tests of `RcuBox`, small enough for Miri.

use super::*;
use crate::{Rcu, Wait, read_lock};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits until `expected` deferred drops have run, polling as the pointer tests do.
fn wait_for_drops(drops: &AtomicUsize, expected: usize) {
    for _ in 0..10_000 {
        if drops.load(Ordering::SeqCst) >= expected {
            break;
        }
        crate::synchronize_rcu();
        thread::yield_now();
    }
    assert_eq!(drops.load(Ordering::SeqCst), expected);
}

#[test]
fn with_rcu_outlives_box() {
    let guard = read_lock();
    let value = {
        let boxed = RcuBox::new(String::from("kept"));
        boxed.with_rcu(&guard)
    };
    assert_eq!(value, "kept");
}

#[test]
fn drop_is_deferred_and_single() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = read_lock();
    let boxed = RcuBox::new(Counted(Arc::clone(&drops)));
    let borrowed = boxed.with_rcu(&guard);
    drop(boxed);
    assert_eq!(Arc::strong_count(&borrowed.0), 2, "dropped under a reader");
    drop(guard);
    wait_for_drops(&drops, 1);
}

#[test]
fn box_moved_to_other_thread() {
    let drops = Arc::new(AtomicUsize::new(0));
    let boxed = RcuBox::new((7_u32, Counted(Arc::clone(&drops))));
    let guard = read_lock();
    let borrowed = boxed.with_rcu(&guard);
    thread::spawn(move || assert_eq!(boxed.0, 7))
        .join()
        .unwrap();
    assert_eq!(borrowed.0, 7);
    drop(guard);
    wait_for_drops(&drops, 1);
}

#[test]
fn inner_box_in_wait_rcu() {
    let drops = Arc::new(AtomicUsize::new(0));
    let ptr: Rcu<Box<RcuBoxInner<Counted>>, Wait> =
        Rcu::new(Box::new(RcuBoxInner::new(Counted(Arc::clone(&drops)))));
    let old = ptr.take().unwrap();
    drop(old.synchronize());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn inner_head_projection_round_trips() {
    let mut inner = RcuBoxInner::new(1_u8);
    let container = &raw mut inner;
    // SAFETY: `container` points to a live `RcuBoxInner`.
    let head = unsafe { <RcuBoxInner<u8> as HasField<_, RcuHead>>::raw_get_field(container) };
    // SAFETY: `head` was projected from `container` above.
    let back = unsafe { <RcuBoxInner<u8> as HasField<_, RcuHead>>::field_container_of(head) };
    assert_eq!(back, container);
}
