//! `rcu_barrier`: waiting for the callbacks already queued.

use super::{QUEUE, worker};
use crate::reader::assert_may_wait;

/// Waits until every callback queued before the call, by any thread, has run.
///
/// Returns at once, without a grace period, when no callback is pending. Otherwise it
/// waits for the callback thread to take every slot's callbacks in one batch, wait for
/// that batch's grace period and run it. Callbacks queued after the call began,
/// including those queued by the callbacks it waits for, may or may not have run when
/// it returns.
///
/// Use it before unloading whatever the callbacks use, or to make sure deferred frees
/// have happened, as the kernel's `rcu_barrier()` is used. Call it before the process
/// exits when a deferred `Drop` must run: callbacks still queued at exit never run.
///
/// # Panics
///
/// - Inside a read-side critical section: the callbacks wait for a grace period that the
///   caller's own section holds up.
/// - On the callback thread, that is inside a callback: the callbacks it would wait for
///   run on that thread after the current callback returns.
///
/// ```
/// use rcu::{HasField, RcuHead};
///
/// #[derive(HasField)]
/// #[has_field(crate = "rcu::has_field")]
/// struct Entry {
///     key: u32,
///     #[field]
///     head: RcuHead,
/// }
///
/// rcu::rcu_barrier(); // nothing queued: returns at once
///
/// rcu::kfree_rcu(Box::new(Entry { key: 1, head: RcuHead::new() }));
/// rcu::rcu_barrier(); // the entry has been dropped
/// assert_eq!(rcu::stats().callback_backlog, 0);
/// ```
#[track_caller]
pub fn rcu_barrier() {
    assert_may_wait("rcu_barrier()");
    assert!(
        !worker::on_callback_thread(),
        "rcu_barrier() called from an RCU callback: it waits for callbacks that run on \
         the callback thread after the current one returns, so it would deadlock. Call it \
         from another thread"
    );

    if QUEUE.pending() == 0 {
        return;
    }
    let target = QUEUE.barrier_target();
    let started = crate::stats::now();
    worker::wait_for_batch(target);
    crate::stats::record_wait(started);
}
