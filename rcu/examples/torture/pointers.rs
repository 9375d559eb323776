//! `Rcu<ArenaPtr>`: the crate's RCU-protected pointer over arena objects.
//!
//! [`ArenaPtr`] owns one arena slot. It implements `ForeignOwnable`, so an `Rcu` can
//! publish it, and `DeferDrop`, so an `Rcu<_, Defer>` can reclaim it through the object's
//! own `RcuHead`. Dropping an `ArenaPtr` never frees memory: it records the grace period
//! that its reclaim path waited for and hands the object on through `call_rcu` until the
//! pipeline count reaches `PIPE_LEN`, when the arena poisons and recycles the slot. So a
//! broken build that drops an old value too early shows a pipeline count above 1 to a
//! reader, which reads only atomics of live memory.

use crate::objects::{
    CALLBACKS_STARTED, Object, Path, count_queued, head_of, pool, queue_call_rcu,
};
use rcu::{Defer, DeferDrop, ForeignOwnable, HasField, Rcu, RcuHead, RcuOld, Reclaim};
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::atomic::Ordering;

/// The shared pointer with the `Wait` policy, updated by every writer through `&self`.
pub static WAIT_RCU: Rcu<ArenaPtr> = Rcu::null();
/// The shared pointer with the `Defer` policy: no update or drop waits for a grace period.
pub static DEFER_RCU: Rcu<ArenaPtr, Defer> = Rcu::null();

/// The owner of one arena slot, from allocation until the slot leaves its pipeline.
#[derive(Debug)]
pub struct ArenaPtr {
    index: u32,
}

impl ArenaPtr {
    /// Takes a free object and makes it live, or `None` when every object is in a
    /// pipeline.
    pub fn alloc() -> Option<ArenaPtr> {
        pool().alloc().map(|index| ArenaPtr { index })
    }

    pub fn index(&self) -> u32 {
        self.index
    }
}

impl Drop for ArenaPtr {
    /// Returns the slot to the arena's pipeline.
    ///
    /// An object with pipeline count 0 was never published (it lost a compare-and-exchange
    /// or the `Rcu::update` loop), so it is recycled at once. Every other drop comes after
    /// the grace period that the reclaim path waited for (`RcuOld`'s drop or
    /// `synchronize`, or the `Defer` callback): it counts as one pipeline step, and
    /// `call_rcu` carries the object through the rest.
    fn drop(&mut self) {
        let object = pool().object(self.index as usize);
        // Relaxed: the count was last written by this thread or by the one that handed
        // over the old value through a grace period, which orders the two.
        if object.pipeline.load(Ordering::Relaxed) == 0 {
            pool().discard(self.index);
        } else if !pool().advance(self.index) {
            queue_call_rcu(self.index);
        }
    }
}

// SAFETY: `into_raw` returns a pointer to an arena object, never null, and the arena is
// never freed, so it stays valid for reads after `from_raw` too. `from_raw` rebuilds the
// handle of the same slot. Every field of `Object` that anyone writes after allocation is
// an atomic or sits in an `UnsafeCell` (the `RcuHead`, the `ListLinks`), so a shared
// borrow never observes a plain write.
unsafe impl ForeignOwnable for ArenaPtr {
    type Target = Object;

    fn into_raw(self) -> *const Object {
        let this = ManuallyDrop::new(self);
        ptr::from_ref(pool().object(this.index as usize))
    }

    unsafe fn from_raw(ptr: *const Object) -> Self {
        // SAFETY: `ptr` came from `into_raw`, so it points into the arena.
        let index = unsafe { (*ptr).index };
        ArenaPtr { index }
    }

    unsafe fn borrow<'a>(ptr: *const Object) -> &'a Object {
        // SAFETY: `ptr` points into the arena, which lives for the rest of the process.
        unsafe { &*ptr }
    }
}

// SAFETY: `defer_drop_raw` queues the drop with `call_rcu`, which runs it on the callback
// thread after a grace period that starts after the call, and never blocks. `ArenaPtr`
// holds only an index, so dropping it on another thread is sound.
unsafe impl DeferDrop for ArenaPtr {
    unsafe fn defer_drop_raw(ptr: *const Object) {
        unsafe fn drop_arena_ptr(head: *mut RcuHead) {
            CALLBACKS_STARTED.fetch_add(1, Ordering::SeqCst);
            // SAFETY: `head` came from `head_of`, a projection of an arena object.
            let object = unsafe { <Object as HasField<Object, RcuHead>>::field_container_of(head) };
            // SAFETY: the queued callback owns the handle that `defer_drop_raw` gave up.
            drop(unsafe { ArenaPtr::from_raw(object) });
        }

        // SAFETY: `ptr` came from `into_raw`, so it points into the arena.
        let head = head_of(unsafe { &*ptr });
        // SAFETY: the caller hands over the only handle to the slot, so its head is not
        // queued elsewhere, and the callback reclaims exactly this handle.
        unsafe { rcu::call_rcu(head, drop_arena_ptr) };
        count_queued();
    }
}

/// Starts the pipeline of an old value: counts it as retired through `path` and moves its
/// count from 0 to 1.
pub fn retire_old<R: Reclaim<ArenaPtr>>(
    old: RcuOld<ArenaPtr, R>,
    path: Path,
) -> RcuOld<ArenaPtr, R> {
    let raw = old.into_raw();
    // SAFETY: `raw` came from `ArenaPtr::into_raw`, so it points into the arena.
    pool().retire(unsafe { (*raw).index }, path);
    // SAFETY: `raw` came from `RcuOld::into_raw` just above, is still unpublished, and is
    // taken back once.
    unsafe { RcuOld::from_raw(raw) }
}

/// Publishes the first value of each shared pointer.
pub fn init_pointers() {
    let first = ArenaPtr::alloc().expect("a new pool has free objects");
    assert!(WAIT_RCU.swap(first).is_none(), "WAIT_RCU starts null");
    let first = ArenaPtr::alloc().expect("a new pool has free objects");
    assert!(DEFER_RCU.swap(first).is_none(), "DEFER_RCU starts null");
}

/// Unpublishes the last values of the shared pointers after the writers have stopped.
pub fn retire_pointers() {
    if let Some(old) = WAIT_RCU.take() {
        drop(retire_old(old, Path::RcuTake));
    }
    if let Some(old) = DEFER_RCU.take() {
        drop(retire_old(old, Path::DeferSwap));
    }
}
