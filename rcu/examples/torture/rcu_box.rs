//! `DeferredRcu<Handle>`: the crate's own `RcuBox`, reclaimed by the `Defer` policy.
//!
//! Unlike an `ArenaPtr`, a [`Handle`] lives in a real heap allocation, an `RcuBox`, which
//! the crate frees to the allocator from its own `call_rcu` callback on the `RcuHead` in
//! `RcuBoxInner`. The handle carries the arena index of one object. Its `Drop`, which that
//! callback runs just before the free, counts one pipeline step for the object and hands
//! it on through `call_rcu`, as `ArenaPtr::drop` does. Readers check the handle's own
//! canary as well as the object, so a box freed under a reader is reported.
//!
//! NOTE: unlike the arena objects, a handle is not kept alive by the torture run. In a
//! broken build a reader may read a handle after the allocator has freed it, which is
//! undefined behaviour: the checks make a report likely but cannot promise one. This is
//! accepted because it happens only when a grace period ends under a reader, which is
//! the bug the run exists to catch. The object index is bounds-checked before use, so a
//! garbage index is reported instead of indexing out of the arena.

use crate::objects::{
    CALLBACKS_STARTED, CANARY_LIVE, CANARY_POISON, Path, count_queued, pool, queue_call_rcu,
};
use rcu::{Defer, DeferredRcu, Rcu, RcuBox, RcuOld};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// The shared `RcuBox` pointer: no update or drop of an old value waits for a grace
/// period.
pub static BOX_RCU: DeferredRcu<Handle> = Rcu::null();

/// An old value of [`BOX_RCU`].
pub type OldHandle = RcuOld<RcuBox<Handle>, Defer>;

/// The payload of an `RcuBox`: a reference to one arena object by index.
///
/// Every field is an atomic, so a reader may load it at the start and again at the end
/// of its section and see a change if the box was freed and its memory reused. A plain
/// field behind `&Handle` could be loaded once by the compiler.
#[derive(Debug)]
pub struct Handle {
    /// The arena index of the object, fixed at creation.
    index: AtomicU32,
    /// The object's generation when the handle was made.
    generation: AtomicU64,
    /// `CANARY_LIVE` from creation until `Drop` writes `CANARY_POISON`.
    canary: AtomicU64,
    /// Set by [`retire_handle`] when the handle is unpublished.
    retired: AtomicBool,
}

impl Handle {
    /// Boxes a new handle to the live object `index`.
    pub fn boxed(index: u32) -> RcuBox<Handle> {
        // Relaxed: this thread allocated the object and wrote its generation, and the box
        // is published later with a Release store that orders these fields for readers.
        let generation = pool()
            .object(index as usize)
            .generation
            .load(Ordering::Relaxed);
        RcuBox::new(Handle {
            index: AtomicU32::new(index),
            generation: AtomicU64::new(generation),
            canary: AtomicU64::new(CANARY_LIVE),
            retired: AtomicBool::new(false),
        })
    }

    // Relaxed in the three loads below: every `&Handle` comes from an Acquire load or
    // exchange in `Rcu` (dereference, update, or the one that unpublished it), which pairs
    // with the Release that published the box. A reader's loads also come before the end
    // of any grace period that waits for its section, so before `Drop`.
    pub fn index(&self) -> u32 {
        self.index.load(Ordering::Relaxed)
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    pub fn canary(&self) -> u64 {
        self.canary.load(Ordering::Relaxed)
    }
}

impl Drop for Handle {
    /// Runs on the callback thread after the grace period that the box's reclaim waited
    /// for, just before the crate frees the box.
    ///
    /// A retired handle was published: its drop counts one pipeline step for the object,
    /// and `call_rcu` carries the object through the rest. A handle that was never
    /// published (it lost a compare-and-exchange or a round of `Rcu::update`) leaves the
    /// object alone, because the writer has discarded it or published it in another
    /// handle.
    fn drop(&mut self) {
        // An atomic store, not a plain write, so that the compiler cannot remove it as dead
        // just before the free. Only readers of a broken build can see it.
        self.canary.store(CANARY_POISON, Ordering::Relaxed);
        // The writer stored `retired` before dropping the `RcuOld`, and the callback
        // thread's pop of the box synchronizes with that drop's `call_rcu` push.
        if !*self.retired.get_mut() {
            return;
        }
        CALLBACKS_STARTED.fetch_add(1, Ordering::SeqCst);
        let index = *self.index.get_mut();
        if !pool().advance(index) {
            queue_call_rcu(index);
        }
    }
}

/// Unpublishes `old` through `Path::RcuBox`: counts its object as retired, marks the
/// handle so that its `Drop` advances the object, and drops the `RcuOld`, which queues the
/// box for the callback thread without waiting.
pub fn retire_handle(old: OldHandle) {
    let raw = old.into_raw();
    // SAFETY: `raw` came from `RcuOld::into_raw` just above, so the box stays alive until
    // the `RcuOld` rebuilt below is dropped, and nothing takes `&mut Handle` before the
    // box's own drop, which the callback thread runs after that.
    let handle = unsafe { &*raw };
    // Relaxed: read by the handle's `Drop`, which runs after the `call_rcu` push below.
    handle.retired.store(true, Ordering::Relaxed);
    pool().retire(handle.index(), Path::RcuBox);
    // SAFETY: `raw` came from `RcuOld::into_raw` above, is still unpublished, and is taken
    // back once.
    drop(unsafe { RcuOld::<RcuBox<Handle>, Defer>::from_raw(raw) });
    // After the drop, whose `call_rcu` has pushed the box: see `count_queued`.
    count_queued();
}

/// Publishes the first handle.
pub fn init_box_rcu() {
    let first = pool().alloc().expect("a new pool has free objects");
    assert!(
        BOX_RCU.swap(Handle::boxed(first)).is_none(),
        "BOX_RCU starts null"
    );
}

/// Unpublishes the last handle after the writers have stopped.
pub fn retire_box_rcu() {
    if let Some(old) = BOX_RCU.take() {
        retire_handle(old);
    }
}
