//! Catches the deadlock between a list's writer lock and grace periods before it happens.
//!
//! A thread may take a list's writer lock inside a read-side critical section, and a
//! thread may wait for a grace period while it holds a writer lock. Either alone is fine.
//! Together, on one list, they can deadlock: the waiting writer holds the lock until the
//! grace period ends, the grace period waits for the reader's section, and the reader
//! waits for the lock. The kernel's lockdep reports the same pair for any lock.
//!
//! Each list records whether each half has ever happened. The call that completes the
//! pair panics, whichever comes first, and whether or not the two ever overlapped in
//! time, with a message that names both halves. A reader that panics unwinds out of its
//! section, so a writer already waiting is released.
//!
//! The record is a diagnostic, so it uses `std` atomics and thread-locals even under
//! loom, where it is switched off: loom models run their threads on one OS thread.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// The record of one list's writer lock: which halves of the deadlock have happened.
pub(super) struct LockOrder {
    /// The lock was taken inside a read-side critical section.
    taken_in_section: AtomicBool,
    /// A grace-period wait happened while the lock was held.
    held_across_wait: AtomicBool,
}

std::thread_local! {
    /// The lock records of the writer locks this thread holds, innermost last.
    static HELD: RefCell<Vec<*const LockOrder>> = const { RefCell::new(Vec::new()) };
}

impl LockOrder {
    pub(super) const fn new() -> Self {
        LockOrder {
            taken_in_section: AtomicBool::new(false),
            held_across_wait: AtomicBool::new(false),
        }
    }

    /// Called before the thread takes the writer lock.
    #[track_caller]
    pub(super) fn before_lock(&self) {
        if cfg!(loom) || !crate::reader::read_lock_held() {
            return;
        }
        // SeqCst on both flags, here and in `before_wait`: each side stores its flag and
        // then loads the other's, which is Dekker's pattern. Under SeqCst at least one of
        // two racing threads loads the other's store, so they cannot both go on to
        // deadlock. Weaker orderings would let both load `false`.
        self.taken_in_section.store(true, Ordering::SeqCst);
        if self.held_across_wait.load(Ordering::SeqCst) {
            panic!(
                "RcuList::lock() called inside an RCU read-side critical section on a list \
                 whose writer lock has been held while waiting for a grace period. The two \
                 can deadlock: the waiting writer keeps the lock until the grace period \
                 ends, and the grace period waits for this section. Take the lock outside \
                 the section, or drop the ListWriter before any wait (reclaim removed \
                 entries after it, or with Unlinked::defer or Unlinked::kfree_rcu)"
            );
        }
    }

    /// Called once the thread holds the writer lock.
    pub(super) fn locked(&self) {
        if cfg!(loom) {
            return;
        }
        let _ = HELD.try_with(|held| held.borrow_mut().push(ptr(self)));
    }

    /// Called when the thread releases the writer lock.
    pub(super) fn unlocked(&self) {
        if cfg!(loom) {
            return;
        }
        let _ = HELD.try_with(|held| {
            let mut held = held.borrow_mut();
            if let Some(position) = held.iter().rposition(|&order| order == ptr(self)) {
                held.remove(position);
            }
        });
    }
}

fn ptr(order: &LockOrder) -> *const LockOrder {
    order
}

/// Returns `true` if the calling thread holds the writer lock of any list.
pub(crate) fn holds_writer_lock() -> bool {
    !cfg!(loom)
        && HELD
            .try_with(|held| !held.borrow().is_empty())
            .unwrap_or(false)
}

/// Returns `true` if [`before_wait`] would panic, without recording anything. Drops that
/// run while the thread unwinds use it, because a second panic would abort.
pub(crate) fn wait_would_conflict() -> bool {
    !cfg!(loom)
        && HELD
            .try_with(|held| {
                held.borrow().iter().any(|&order| {
                    // SAFETY: as in `before_wait`.
                    let order = unsafe { &*order };
                    // SeqCst: see `before_lock`.
                    order.taken_in_section.load(Ordering::SeqCst)
                })
            })
            .unwrap_or(false)
}

/// Records that the calling thread is about to wait for a grace period, for every writer
/// lock it holds, and panics if one of those locks has been taken inside a section.
#[track_caller]
pub(crate) fn before_wait(api: &str) {
    if cfg!(loom) {
        return;
    }
    let conflict = HELD
        .try_with(|held| {
            held.borrow().iter().any(|&order| {
                // SAFETY: an entry stays in `HELD` only while its `ListWriter` lives, and
                // the writer borrows the list that owns the `LockOrder`.
                let order = unsafe { &*order };
                // SeqCst: see `before_lock`.
                order.held_across_wait.store(true, Ordering::SeqCst);
                order.taken_in_section.load(Ordering::SeqCst)
            })
        })
        .unwrap_or(false);
    if conflict {
        panic!(
            "{api} called while this thread holds the writer lock of an RcuList that a \
             reader has taken inside an RCU read-side critical section. The two can \
             deadlock: this wait keeps the lock until the grace period ends, and the grace \
             period waits for a reader that waits for the lock. Drop the ListWriter before \
             waiting (the Unlinked values it returned outlive it), use Unlinked::defer or \
             Unlinked::kfree_rcu, or take the lock outside sections"
        );
    }
}
