//! The callback thread: takes a batch, waits for one grace period, runs the batch.

use super::QUEUE;
use crate::grace_period;
use crate::stats;
use std::sync::{Condvar, Mutex, OnceLock};
use std::thread::{self, Thread};

static WORKER: OnceLock<Thread> = OnceLock::new();

/// Threads waiting in [`wait_for_batch`]. The consumer ends each batch under this lock,
/// so a waiter that checks `batch_seq` under it cannot miss the notification.
static WAITERS: Mutex<usize> = Mutex::new(0);
static BATCH_ENDED: Condvar = Condvar::new();

std::thread_local! {
    static ON_CALLBACK_THREAD: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Returns `true` on the callback thread, where nothing may wait for callbacks.
pub(super) fn on_callback_thread() -> bool {
    ON_CALLBACK_THREAD.try_with(core::cell::Cell::get).unwrap_or(false)
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

    let mut waiters = crate::sync::lock(&WAITERS);
    *waiters += 1;
    while !QUEUE.batch_done(target) {
        waiters = BATCH_ENDED
            .wait(waiters)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
    *waiters -= 1;
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
        if !batch.is_empty() {
            // Every callback in the batch was queued before the sweep, so a grace period
            // that starts now serves all of them.
            grace_period::synchronize_rcu();
            run_batch(batch);
        }

        let waiters = crate::sync::lock(&WAITERS);
        QUEUE.end_batch();
        if *waiters > 0 {
            BATCH_ENDED.notify_all();
        }
    }
}

/// Runs every callback of `batch`. Callbacks run outside every lock of the crate.
fn run_batch(mut batch: super::queue::Batch<{ super::SLOTS }>) {
    let mut count = 0;
    let mut panicked = 0;
    while let Some((head, func)) = batch.pop() {
        // AssertUnwindSafe: after a panic the head belongs to nobody, and this loop touches
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
            log::error!(
                "rcu: an RCU callback panicked: {message}; the other callbacks still run"
            );
        }
    }
    QUEUE.record_invoked(count);
    stats::record_batch(count, panicked);
}
