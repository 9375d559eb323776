//! Callbacks and reclamation: `call_rcu`, its typed forms, `rcu_barrier`, and the limit
//! on queued callbacks.
//!
//! A callback is an [`RcuHead`](crate::RcuHead) plus a function. [`call_rcu`] pushes the
//! head onto the calling thread's own slot of the queue ([`queue`]), which costs one
//! uncontended compare-and-swap. A callback thread, started on first use ([`worker`]),
//! sweeps every slot at once, waits for one grace period that begins after the sweep,
//! and then runs the batch. One grace period so serves every callback queued before it,
//! and the batch grows with the update rate: the faster callbacks arrive, the fewer grace
//! periods each one costs. After a small batch the thread waits up to a millisecond
//! before the next sweep, so that a steady trickle of callbacks also shares grace periods.
//!
//! [`rcu_barrier`] ([`barrier`]) waits for the first batch that starts after it, which
//! takes every slot's callbacks, including the slots of threads that have exited.
//! [`kfree_rcu`] and [`call_rcu_box`] ([`typed`]) wait for the callback thread when the
//! backlog exceeds a limit ([`backpressure`]), so a fast updater cannot grow the queue
//! without bound.

mod backpressure;
mod barrier;
pub(crate) mod queue;
mod thread_slot;
mod typed;
mod worker;

pub(crate) use backpressure::throttle;
pub use backpressure::{DEFAULT_CALLBACK_LIMIT, callback_limit, set_callback_limit};
pub use barrier::rcu_barrier;
pub use typed::{RcuCallback, call_rcu_box, kfree_rcu};

use crate::head::{RcuCallbackFn, RcuHead};
use crate::sync::global;

/// Queue slots: one per thread that queues callbacks, up to `SLOTS - 1` threads at a
/// time; further threads share the last slot.
const SLOTS: usize = 128;

type Queue = queue::Queue<SLOTS>;

global! {
    /// The process's callback queue, consumed by the callback thread.
    static QUEUE: Queue = Queue::new();
}

/// Queues `func` to run with `head` after a grace period.
///
/// When `func` runs, every read-side critical section that began before this call has
/// ended. It runs on the crate's callback thread, outside every lock of the crate, and
/// may itself call `call_rcu`, the typed forms and [`synchronize_rcu`](crate::synchronize_rcu),
/// but not [`rcu_barrier`]. A panic in `func` is caught and logged with `log::error!`,
/// and the other callbacks still run. Callbacks run in no promised order.
///
/// Never blocks and never allocates, so it may be called from any thread, inside a
/// read-side critical section and from a callback. The exceptions are one-time set-up
/// costs: the first call in a process starts the callback thread, and the first call on
/// each thread claims a queue slot and registers a thread-local destructor that releases
/// it. Unlike the typed forms, it never waits when the backlog exceeds
/// [`callback_limit`]; a caller that queues callbacks in a loop should use the typed
/// forms or wait now and then with [`synchronize_rcu`](crate::synchronize_rcu).
///
/// # Safety
///
/// - `head` points to a valid `RcuHead` that is not queued. From this call until `func`
///   starts, the queue owns the head: nothing else may read, write, move or free it, and
///   it must not be queued again. Once `func` starts, `func` owns it.
/// - `func` must be sound to call with `head` on another thread (the callback thread), so
///   whatever it reaches through `head` must be safe to send there, and must stay valid
///   until it runs.
///
/// # Panics
///
/// Panics if the callback thread cannot be started.
///
/// ```
/// use rcu::RcuHead;
///
/// unsafe fn free_head(head: *mut RcuHead) {
///     // SAFETY: the head was leaked from a Box below and nothing else uses it.
///     drop(unsafe { Box::from_raw(head) });
/// }
///
/// let head = Box::into_raw(Box::new(RcuHead::new()));
/// // SAFETY: the head is fresh, and the queue owns it until `free_head` runs.
/// unsafe { rcu::call_rcu(head, free_head) };
/// rcu::rcu_barrier();
/// ```
#[inline]
pub unsafe fn call_rcu(head: *mut RcuHead, func: RcuCallbackFn) {
    let slot = thread_slot::current();
    // SAFETY: the caller hands over `head`, and `thread_slot` gives this thread either
    // its own slot or the shared overflow slot.
    let was_empty = unsafe { QUEUE.push(slot, head, func) };
    if was_empty {
        // The callback thread empties every slot it sweeps, so only a push onto an empty
        // slot can find it asleep.
        worker::wake_if_sleeping();
    }
}

/// Returns the number of callbacks queued since the process started.
pub(crate) fn callbacks_queued() -> u64 {
    QUEUE.pushed_total()
}
