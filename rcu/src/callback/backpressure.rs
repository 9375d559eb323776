//! The callback limit, and the wait that keeps a fast updater from outrunning
//! reclamation.

use super::{QUEUE, thread_slot, worker};
use crate::reader::read_lock_held;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The default callback limit: 10 000 queued callbacks, the default of the Linux kernel's
/// `rcutree.qhimark` (the per-CPU backlog above which the kernel stops limiting how many
/// callbacks it runs at a time, `DEFAULT_RCU_QHIMARK` in `kernel/rcu/tree.c`).
///
/// ```
/// rcu::set_callback_limit(rcu::DEFAULT_CALLBACK_LIMIT);
/// assert_eq!(rcu::callback_limit(), 10_000);
/// ```
pub const DEFAULT_CALLBACK_LIMIT: usize = 10_000;

/// The limit. Relaxed: a standalone setting that no other memory depends on.
static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_CALLBACK_LIMIT);

/// The maximum number of typed-form calls a thread makes between two backlog checks.
const MAX_CHECK_INTERVAL: u32 = 64;

/// Sets how many callbacks may be queued and not yet run before [`kfree_rcu`],
/// [`call_rcu_box`] and the other deferred forms built on them (dropping an
/// [`RcuBox`](crate::RcuBox), an old value under the [`Defer`](crate::Defer) policy,
/// [`RcuOld::defer_drop`](crate::RcuOld::defer_drop), and the list's deferred removals)
/// make their callers wait.
///
/// A caller that finds the backlog above the limit wakes the callback thread and waits
/// until a batch has run and the backlog is at or below the limit again. Such a wait
/// takes at least one grace period. Each thread compares the backlog with the limit
/// once every `limit / 16` calls (at least every call, at most every 64), so the backlog
/// may pass the limit by up to that many callbacks per thread.
///
/// A caller never waits inside a read-side critical section (a grace period cannot end
/// while its own section is open) or on the callback thread (the batch it would wait for
/// could not run). There the backlog goes over the limit, and the callback thread is
/// woken if it sleeps. [`call_rcu`] itself never waits.
///
/// `0` makes every typed-form call outside a section wait until its callback has run;
/// `usize::MAX` turns backpressure off.
///
/// [`kfree_rcu`]: crate::kfree_rcu
/// [`call_rcu_box`]: crate::call_rcu_box
/// [`call_rcu`]: crate::call_rcu
///
/// ```
/// rcu::set_callback_limit(50_000);
/// assert_eq!(rcu::callback_limit(), 50_000);
/// rcu::set_callback_limit(rcu::DEFAULT_CALLBACK_LIMIT);
/// ```
pub fn set_callback_limit(limit: usize) {
    LIMIT.store(limit, Ordering::Relaxed);
}

/// Returns the callback limit; see [`set_callback_limit`].
///
/// ```
/// assert!(rcu::callback_limit() > 0);
/// ```
pub fn callback_limit() -> usize {
    LIMIT.load(Ordering::Relaxed)
}

/// Returns how many typed-form calls a thread makes between two backlog checks.
#[inline]
pub(super) fn check_interval() -> u32 {
    let limit = LIMIT.load(Ordering::Relaxed);
    u32::try_from(limit / 16)
        .unwrap_or(MAX_CHECK_INTERVAL)
        .clamp(1, MAX_CHECK_INTERVAL)
}

/// Slows the caller down when the backlog exceeds the limit; called by the typed forms,
/// the `Defer` reclaim policy and `RcuBox`'s drop after they queue a callback.
#[inline]
pub(crate) fn throttle() {
    if thread_slot::check_due() {
        throttle_slow();
    }
}

#[cold]
#[inline(never)]
fn throttle_slow() {
    let limit = u64::try_from(callback_limit()).unwrap_or(u64::MAX);
    if QUEUE.pending() <= limit {
        return;
    }
    if read_lock_held()
        || worker::on_callback_thread()
        || crate::list::lock_order::holds_writer_lock()
    {
        // Waiting here could deadlock; going over the limit cannot. The callback thread
        // waits for a grace period, which may wait for a reader that waits for a list's
        // writer lock this thread holds. It is most likely awake already, but make sure.
        worker::wake_if_sleeping();
        return;
    }

    let started = crate::stats::now();
    loop {
        worker::wait_for_batch(QUEUE.next_batch_end());
        if QUEUE.pending() <= limit {
            break;
        }
    }
    crate::stats::record_wait(started);
}
