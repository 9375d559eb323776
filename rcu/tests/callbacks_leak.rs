//! After `rcu_barrier`, nothing is left of a million `kfree_rcu` objects: a counting
//! global allocator compares the bytes allocated and not freed before and after.
//!
//! This file contains one test so that no other test allocates while it measures.

use rcu::{HasField, RcuHead};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// The system allocator, counting bytes allocated and not yet freed.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static DROPS: AtomicUsize = AtomicUsize::new(0);

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Object {
    payload: [u64; 2],
    #[field]
    head: RcuHead,
}

impl Drop for Object {
    fn drop(&mut self) {
        assert_eq!(
            self.payload[0], !self.payload[1],
            "object damaged before its drop"
        );
        DROPS.fetch_add(1, Ordering::Relaxed);
    }
}

const OBJECTS: usize = 1_000_000;

#[test]
fn million_kfree_rcu_leave_nothing_after_barrier() {
    // Start the callback thread and claim this thread's slot before measuring.
    rcu::kfree_rcu(Box::new(Object {
        payload: [0, !0],
        head: RcuHead::new(),
    }));
    rcu::rcu_barrier();
    let drops_before = DROPS.load(Ordering::SeqCst);
    let live_before = LIVE_BYTES.load(Ordering::SeqCst);

    for i in 0..OBJECTS as u64 {
        rcu::kfree_rcu(Box::new(Object {
            payload: [i, !i],
            head: RcuHead::new(),
        }));
    }
    rcu::rcu_barrier();

    let leaked = LIVE_BYTES.load(Ordering::SeqCst) - live_before;
    assert_eq!(DROPS.load(Ordering::SeqCst) - drops_before, OBJECTS);
    // The objects alone would be 32 MB. A few bytes may come from a reader registration
    // or the grace-period engine's scratch vector growing; none scale with the count.
    assert!(
        leaked < 4096,
        "{leaked} bytes still allocated after rcu_barrier"
    );
}
