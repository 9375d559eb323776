//! Each thread's claim on a queue slot, and its backpressure check counter.

use super::QUEUE;
use super::backpressure;
use crate::sync::thread_locals;
use core::cell::Cell;

/// Not yet claimed; the next push claims a slot.
const UNCLAIMED: usize = usize::MAX;

/// This thread's slot. Dropping it (at thread exit) releases the slot.
pub(super) struct ThreadSlot {
    index: Cell<usize>,
    /// Typed-form calls since this thread last compared the backlog with the limit.
    since_check: Cell<u32>,
}

impl ThreadSlot {
    const fn new() -> Self {
        ThreadSlot {
            index: Cell::new(UNCLAIMED),
            since_check: Cell::new(0),
        }
    }
}

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        let index = self.index.replace(super::Queue::OVERFLOW);
        if index != UNCLAIMED {
            // The callbacks on the slot stay there and are taken by the next sweep.
            QUEUE.release_slot(index);
        }
    }
}

thread_locals! {
    static SLOT: ThreadSlot = ThreadSlot::new();
}

/// Returns the calling thread's slot index, claiming one on the first call.
///
/// After the thread-local has been destroyed (a call from another thread-local's
/// destructor), returns the shared overflow slot.
#[inline]
pub(super) fn current() -> usize {
    SLOT.try_with(|slot| {
        let index = slot.index.get();
        if index != UNCLAIMED {
            return index;
        }
        let index = QUEUE.claim_slot();
        slot.index.set(index);
        index
    })
    .unwrap_or(super::Queue::OVERFLOW)
}

/// Counts one typed-form call and returns `true` when it is this thread's turn to compare
/// the backlog with the limit.
#[inline]
pub(super) fn check_due() -> bool {
    SLOT.try_with(|slot| {
        let calls = slot.since_check.get() + 1;
        if calls >= backpressure::check_interval() {
            slot.since_check.set(0);
            true
        } else {
            slot.since_check.set(calls);
            false
        }
    })
    .unwrap_or(true)
}
