//! Counters that users can read with [`stats`].
//!
//! Counters use `std` atomics even under loom: they are reports, not synchronization,
//! and modelling them would only grow loom's state space.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A snapshot of the crate's counters, from [`stats`].
///
/// Each field is read separately, so fields updated concurrently may be slightly out
/// of step with each other. Taking a snapshot takes no lock, so it
/// is cheap enough to call from a reader's loop.
///
/// ```
/// rcu::synchronize_rcu();
/// let stats = rcu::stats();
/// assert!(stats.grace_periods >= 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Grace periods completed since the process started.
    pub grace_periods: u64,
    /// Total time callers spent waiting in `synchronize_rcu` and other waiting APIs,
    /// summed over callers, so overlapping waits count once each. The crate's own
    /// callback and polling threads count as callers too.
    pub wait_time: Duration,
    /// Callers blocked right now in `synchronize_rcu` or another waiting API, each
    /// waiting for a grace period that had not completed when it took its snapshot. The
    /// crate's own callback and polling threads count as callers too.
    ///
    /// Seeing a count of `n` means those `n` callers have already taken their snapshots,
    /// so a test can hold a reader, wait for the count, and know which grace period each
    /// caller needs.
    pub grace_period_waiters: u64,
    /// Reader threads registered now.
    pub readers_registered: u64,
    /// Reader threads registered since the process started.
    pub readers_registered_total: u64,
    /// Threads that exited inside a read-side critical section.
    pub readers_exited_in_section: u64,
    /// Stall warnings logged.
    pub stalls: u64,
    /// Callbacks queued by `call_rcu` and its typed forms.
    pub callbacks_queued: u64,
    /// Callbacks that have run (including those that panicked).
    pub callbacks_invoked: u64,
    /// Callbacks that panicked.
    pub callbacks_panicked: u64,
    /// The largest number of callbacks served by one grace period.
    pub largest_batch: u64,
    /// Callbacks queued and not yet run.
    pub callback_backlog: u64,
}

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        $(static $name: AtomicU64 = AtomicU64::new(0);)*
    };
}

counters!(
    GRACE_PERIODS,
    REGISTERED_NOW,
    WAIT_NANOS,
    WAITERS_NOW,
    REGISTERED_TOTAL,
    EXITED_IN_SECTION,
    STALLS,
    CALLBACKS_INVOKED,
    CALLBACKS_PANICKED,
    LARGEST_BATCH,
);

/// Returns a snapshot of the crate's counters.
///
/// ```
/// let before = rcu::stats().grace_periods;
/// rcu::synchronize_rcu();
/// assert!(rcu::stats().grace_periods > before);
/// ```
pub fn stats() -> Stats {
    let queued = crate::callback::callbacks_queued();
    let invoked = CALLBACKS_INVOKED.load(Ordering::Relaxed);
    Stats {
        grace_periods: GRACE_PERIODS.load(Ordering::Relaxed),
        wait_time: Duration::from_nanos(WAIT_NANOS.load(Ordering::Relaxed)),
        // Acquire pairs with the Release increment in `record_gp_wait_start`, so a thread
        // that reads a count is ordered after the snapshots those callers took first.
        grace_period_waiters: WAITERS_NOW.load(Ordering::Acquire),
        readers_registered: REGISTERED_NOW.load(Ordering::Relaxed),
        readers_registered_total: REGISTERED_TOTAL.load(Ordering::Relaxed),
        readers_exited_in_section: EXITED_IN_SECTION.load(Ordering::Relaxed),
        stalls: STALLS.load(Ordering::Relaxed),
        callbacks_queued: queued,
        callbacks_invoked: invoked,
        callbacks_panicked: CALLBACKS_PANICKED.load(Ordering::Relaxed),
        largest_batch: LARGEST_BATCH.load(Ordering::Relaxed),
        callback_backlog: queued.saturating_sub(invoked),
    }
}

pub(crate) fn now() -> Instant {
    Instant::now()
}

/// Counts a caller that starts waiting for a grace period, after it took its snapshot.
/// Returns the start time for [`record_gp_wait_end`].
pub(crate) fn record_gp_wait_start() -> Instant {
    // Release pairs with the Acquire load in `stats`: the snapshot came first.
    WAITERS_NOW.fetch_add(1, Ordering::Release);
    Instant::now()
}

/// Counts the end of a wait begun by [`record_gp_wait_start`].
pub(crate) fn record_gp_wait_end(started: Instant) {
    WAITERS_NOW.fetch_sub(1, Ordering::Relaxed);
    record_wait(started);
}

pub(crate) fn record_wait(started: Instant) {
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    WAIT_NANOS.fetch_add(nanos, Ordering::Relaxed);
}

pub(crate) fn record_grace_period() {
    GRACE_PERIODS.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn record_registration() {
    REGISTERED_TOTAL.fetch_add(1, Ordering::Relaxed);
    REGISTERED_NOW.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn record_unregistration() {
    REGISTERED_NOW.fetch_sub(1, Ordering::Relaxed);
}

pub(crate) fn record_exit_in_section() {
    EXITED_IN_SECTION.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn record_stall() {
    STALLS.fetch_add(1, Ordering::Relaxed);
}

/// Counts one batch of `count` callbacks run, `panicked` of which panicked.
pub(crate) fn record_batch(count: u64, panicked: u64) {
    CALLBACKS_INVOKED.fetch_add(count, Ordering::Relaxed);
    CALLBACKS_PANICKED.fetch_add(panicked, Ordering::Relaxed);
    LARGEST_BATCH.fetch_max(count, Ordering::Relaxed);
}
