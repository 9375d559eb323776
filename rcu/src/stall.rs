//! RCU stall warnings: a grace period that waits too long on one reader says which.

use crate::reader::ReaderNode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The default stall timeout, 21 seconds, the Linux kernel's default
/// (`CONFIG_RCU_CPU_STALL_TIMEOUT`).
///
/// ```
/// assert_eq!(rcu::DEFAULT_STALL_TIMEOUT.as_secs(), 21);
/// ```
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(21);

/// The stall timeout in milliseconds. Relaxed: a standalone setting.
static STALL_TIMEOUT_MS: AtomicU64 = AtomicU64::new(DEFAULT_STALL_TIMEOUT.as_millis() as u64);

/// Sets how long a grace period waits on one reader before it logs a stall warning.
///
/// The warning goes through `log::warn!`, names the reader thread, and is logged once per
/// reader per grace period. The default is [`DEFAULT_STALL_TIMEOUT`].
///
/// ```
/// use std::time::Duration;
///
/// rcu::set_stall_timeout(Duration::from_secs(5));
/// assert_eq!(rcu::stall_timeout(), Duration::from_secs(5));
/// rcu::set_stall_timeout(rcu::DEFAULT_STALL_TIMEOUT);
/// ```
pub fn set_stall_timeout(timeout: Duration) {
    let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    STALL_TIMEOUT_MS.store(millis, Ordering::Relaxed);
}

/// Returns the current stall timeout; see [`set_stall_timeout`].
///
/// ```
/// assert!(rcu::stall_timeout() > std::time::Duration::ZERO);
/// ```
pub fn stall_timeout() -> Duration {
    Duration::from_millis(STALL_TIMEOUT_MS.load(Ordering::Relaxed))
}

/// Times one grace period's wait on one reader.
pub(crate) struct Watch {
    started: Option<Instant>,
    reported: bool,
}

impl Watch {
    pub(crate) fn new() -> Self {
        Watch {
            started: None,
            reported: false,
        }
    }

    /// Logs a warning the first time the wait on `node` exceeds the stall timeout.
    pub(crate) fn check(&mut self, node: &ReaderNode, grace_period: u64) {
        if self.reported || cfg!(loom) {
            return;
        }
        let started = *self.started.get_or_insert_with(Instant::now);
        let waited = started.elapsed();
        if waited < stall_timeout() {
            return;
        }

        self.reported = true;
        crate::stats::record_stall();
        let exited = if node.exited_in_section.load(Ordering::Relaxed) {
            ", and the thread has exited without ending it"
        } else {
            ""
        };
        crate::report::report_warn!(
            "rcu: stall: grace period {grace_period} has waited {:.3}s for reader thread {}, \
             which has been inside one read-side critical section for at least that long{exited}",
            waited.as_secs_f64(),
            node.describe(),
        );
    }
}
