//! How concurrent callers share grace periods.
//!
//! Callers that need a grace period queue up behind one leader. The leader runs grace
//! periods and, after each, wakes every queued caller whose snapshot it satisfied. When the
//! leader's own snapshot is reached it hands leadership to a caller still waiting, or
//! retires if none is. A caller that arrives while a grace period runs is served by the
//! next one, together with everyone else who arrived meanwhile, so N concurrent callers
//! cost one or two grace periods instead of N. Waiting callers sleep without holding any
//! lock, and wake straight into a return.

use crate::grace_period::{completed, run_until};
use crate::sync::{AtomicU8, AtomicUsize, Mutex, Ordering, global, lock, thread};

/// A queued caller, on that caller's stack.
struct Waiter {
    target: u64,
    state: AtomicU8,
    thread: thread::Thread,
}

const WAITING: u8 = 0;
const DONE: u8 = 1;
const LEAD: u8 = 2;

struct Queue {
    leader_active: bool,
    waiters: Vec<*const Waiter>,
}

// SAFETY: the raw pointers refer to `Waiter`s that stay alive until their state leaves
// `WAITING`, and only the leader, under the queue lock, dereferences them before that.
unsafe impl Send for Queue {}

global! {
    /// Callers inside `wait_for`.
    static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
}

global! {
    static QUEUE: Mutex<Queue> = Mutex::new(Queue { leader_active: false, waiters: Vec::new() });
}

/// Returns once `target` is reached, either by leading grace periods or by being woken.
pub(crate) fn wait_for(target: u64) {
    // Relaxed: a scheduling hint, not synchronization.
    IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
    wait_in_queue(target);
    IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
}

fn wait_in_queue(target: u64) {
    let mut queue = lock(&QUEUE);
    if completed(target) {
        return;
    }
    if queue.leader_active {
        let waiter = Waiter {
            target,
            state: AtomicU8::new(WAITING),
            thread: thread::current(),
        };
        queue.waiters.push(&raw const waiter);
        drop(queue);
        loop {
            // Acquire pairs with the Release store in `release`: a woken caller sees the
            // end of the grace period that served it.
            match waiter.state.load(Ordering::Acquire) {
                DONE => return,
                LEAD => break,
                _ => thread::park(),
            }
        }
    } else {
        queue.leader_active = true;
        drop(queue);
    }
    lead(target);
}

/// Runs grace periods as the leader until `target` is reached, then passes leadership on.
fn lead(target: u64) {
    let queued = lock(&QUEUE).waiters.len();
    if IN_FLIGHT.load(Ordering::Relaxed) > queued + 1 {
        // Callers have entered but not queued yet: they are runnable and about to take
        // their snapshots. Giving them the CPU first lets this grace period serve them
        // too, where starting at once would make each need the next one.
        thread::yield_now();
    }
    run_until(target, wake_served);

    let mut queue = lock(&QUEUE);
    // The longest-waiting caller leads next.
    let successor = (!queue.waiters.is_empty()).then(|| queue.waiters.remove(0));
    match successor {
        Some(next) => {
            drop(queue);
            // SAFETY: `next` was queued and not yet released, so its owner is still parked
            // in `wait_for` and the `Waiter` is alive.
            unsafe { release(next, LEAD) };
        }
        None => queue.leader_active = false,
    }
}

/// Wakes every queued caller whose target has been reached.
fn wake_served() {
    let mut served = Vec::new();
    {
        let mut queue = lock(&QUEUE);
        queue.waiters.retain(|&waiter| {
            // SAFETY: a queued waiter stays alive until it is released, below.
            let target = unsafe { (*waiter).target };
            let done = completed(target);
            if done {
                served.push(waiter);
            }
            !done
        });
    }
    for waiter in served {
        // SAFETY: removed from the queue above and not yet released.
        unsafe { release(waiter, DONE) };
    }
}

/// Sets a waiter's state and wakes it.
///
/// # Safety
///
/// `waiter` is alive and still `WAITING`, and no other thread releases it. After the
/// store the owner may return and free it, so the thread handle is cloned first.
unsafe fn release(waiter: *const Waiter, state: u8) {
    // SAFETY: alive per the contract.
    let waiter = unsafe { &*waiter };
    let owner = waiter.thread.clone();
    // Release pairs with the Acquire load in `wait_for`.
    waiter.state.store(state, Ordering::Release);
    owner.unpark();
}
