//! The callback thread: takes a batch, waits for one grace period, runs the batch.

use super::QUEUE;
use crate::grace_period;
use crate::stats;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::sync::{Condvar, Mutex, OnceLock};
use std::thread::{self, Thread};
use std::time::Duration;

static WORKER: OnceLock<Thread> = OnceLock::new();

/// Threads waiting in [`wait_for_batch`]. The consumer ends each batch under this lock,
/// so a waiter that checks `batch_seq` under it cannot miss the notification.
static WAITERS: Mutex<usize> = Mutex::new(0);
static BATCH_ENDED: Condvar = Condvar::new();

/// A batch smaller than this makes the callback thread doze before the next sweep.
const DOZE_BELOW: u64 = 1_000;

/// How long the callback thread dozes. Callbacks queued meanwhile wait up to this much
/// longer for their grace period to start, so that one grace period serves more of them.
///
/// NOTE: this and `DOZE_BELOW` were chosen from kfree_rcu runs on one 2-vCPU machine,
/// not tuned across machines.
const DOZE: Duration = Duration::from_millis(1);

/// Set while the callback thread dozes. Pushes do not wake it then, but waiters do.
static DOZING: AtomicBool = AtomicBool::new(false);

std::thread_local! {
    static ON_CALLBACK_THREAD: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Returns `true` on the callback thread, where nothing may wait for callbacks.
pub(super) fn on_callback_thread() -> bool {
    ON_CALLBACK_THREAD
        .try_with(core::cell::Cell::get)
        .unwrap_or(false)
}

/// Unparks the callback thread if it sleeps, starting it on first use.
#[inline]
pub(super) fn wake_if_sleeping() {
    if QUEUE.wake_needed() {
        wake();
    }
}

#[cold]
fn wake() {
    WORKER
        .get_or_init(|| {
            thread::Builder::new()
                .name("rcu-callbacks".into())
                .spawn(run)
                .expect("rcu: failed to spawn the callback thread `rcu-callbacks`")
                .thread()
                .clone()
        })
        .unpark();
}

/// Blocks until the callback thread has ended the batch numbered `target`.
pub(super) fn wait_for_batch(target: u64) {
    QUEUE.request_batch(target);
    wake_if_sleeping();
    // Relaxed: the SeqCst fence in `wake_if_sleeping` orders the request before this
    // load, and pairs with the fence in `doze`.
    if DOZING.load(Ordering::Relaxed) {
        if let Some(worker) = WORKER.get() {
            worker.unpark();
        }
    }

    let mut waiters = lock_waiters();
    *waiters += 1;
    while !QUEUE.batch_done(target) {
        waiters = BATCH_ENDED
            .wait(waiters)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
    *waiters -= 1;
}

/// Locks `WAITERS`, ignoring poisoning: the count stays consistent because nothing
/// between lock and unlock can panic.
fn lock_waiters() -> std::sync::MutexGuard<'static, usize> {
    WAITERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn run() {
    ON_CALLBACK_THREAD.with(|flag| flag.set(true));
    loop {
        if QUEUE.prepare_sleep() {
            while QUEUE.still_sleeping() {
                thread::park();
            }
        }

        QUEUE.begin_batch();
        let batch = QUEUE.take_all();
        let mut count = 0;
        if !batch.is_empty() {
            // Every callback in the batch was queued before the sweep, so a grace period
            // that starts now serves all of them.
            grace_period::synchronize_rcu();
            count = run_batch(batch);
        }

        {
            let waiters = lock_waiters();
            QUEUE.end_batch();
            if *waiters > 0 {
                BATCH_ENDED.notify_all();
            }
        }
        // After ending the batch, so that an `rcu_barrier` waiting for it returns.
        if crate::reader::read_lock_held() {
            stop_after_leaked_guard();
        }

        if count > 0 && count < DOZE_BELOW {
            doze();
        }
    }
}

/// Reports a callback that returned inside a read-side critical section, then parks the
/// callback thread for good.
///
/// The callback leaked a `Guard` (with `mem::forget`, `Box::leak` or a thread-local of
/// this thread). Ending the section on its behalf would be unsound: a guard leaked as
/// `&'static Guard` may have lent out `&'static` references that something still holds.
/// So the section stays open, no grace period can end any more, and every later callback
/// would wait forever. Parking, instead of panicking in the next `synchronize_rcu`, keeps
/// the report about the real mistake. A later grace period logs stall warnings that
/// name this thread.
#[cold]
fn stop_after_leaked_guard() -> ! {
    crate::report::report_error!(
        "rcu: an RCU callback returned inside a read-side critical section: it leaked a \
         Guard (mem::forget, Box::leak, or a thread-local of the callback thread). No grace \
         period can end while that section is open, so the callback thread `rcu-callbacks` \
         stops here, and synchronize_rcu, rcu_barrier and queued callbacks will wait \
         forever. Drop every Guard a callback takes before it returns"
    );
    loop {
        thread::park();
    }
}

/// Waits up to [`DOZE`] unless a waiter needs a batch, so that callbacks arriving at a
/// steady rate share grace periods instead of each small batch costing one.
fn doze() {
    // Relaxed: ordered before the load in `batch_requested` by the fence.
    DOZING.store(true, Ordering::Relaxed);
    // SeqCst fence pairs with the one in `wait_for_batch` (through `wake_if_sleeping`):
    // either this thread sees the waiter's request, or the waiter sees `DOZING` and
    // unparks this thread.
    fence(Ordering::SeqCst);
    if !QUEUE.batch_requested() {
        thread::park_timeout(DOZE);
    }
    DOZING.store(false, Ordering::Relaxed);
}

/// Runs every callback of `batch`. Callbacks run outside every lock of the crate.
/// Returns how many ran.
fn run_batch(mut batch: super::queue::Batch<{ super::SLOTS }>) -> u64 {
    let mut count = 0;
    let mut panicked = 0;
    while let Some((head, func)) = batch.pop() {
        // AssertUnwindSafe: after a panic the head has no owner left, and this loop touches
        // nothing that the callback could have left half-updated.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: a grace period has ended since the callback was queued, and
            // `call_rcu`'s caller promised that `func` may run with `head` on this thread.
            unsafe { func(head) }
        }));
        count += 1;
        if let Err(payload) = result {
            panicked += 1;
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("<panic payload is not a string>");
            crate::report::report_error!(
                "rcu: an RCU callback panicked: {message}; the other callbacks still run"
            );
        }
    }
    QUEUE.record_invoked(count);
    stats::record_batch(count, panicked);
    count
}
