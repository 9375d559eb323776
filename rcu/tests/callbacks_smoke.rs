//! First checks of the callback queue; the full suite lives beside it.

use std::sync::atomic::{AtomicUsize, Ordering};

static DROPS: AtomicUsize = AtomicUsize::new(0);

#[repr(C)]
struct Node {
    head: rcu::RcuHead,
    value: u64,
}

// SAFETY: `head` is the first field of a `#[repr(C)]` struct, so the container and the
// field share an address; both projections keep the pointer's provenance.
unsafe impl rcu::HasField<Node, rcu::RcuHead> for Node {
    unsafe fn raw_get_field(ptr: *mut Self) -> *mut rcu::RcuHead {
        // SAFETY: the caller passes a valid `Node`.
        unsafe { &raw mut (*ptr).head }
    }
    unsafe fn field_container_of(ptr: *mut rcu::RcuHead) -> *mut Self {
        ptr.cast()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        assert_eq!(self.value, 42);
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn kfree_rcu_drops_after_barrier() {
    for _ in 0..1000 {
        rcu::kfree_rcu(Box::new(Node {
            head: rcu::RcuHead::new(),
            value: 42,
        }));
    }
    rcu::rcu_barrier();
    assert_eq!(DROPS.load(Ordering::SeqCst), 1000);
}
