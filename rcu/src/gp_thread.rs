//! The background thread that drives grace periods requested by
//! [`start_poll_synchronize_rcu`](crate::start_poll_synchronize_rcu).

use crate::grace_period::wait_for;
use std::sync::{Condvar, Mutex};

/// The newest requested target, if one is pending.
static REQUESTED: Mutex<Option<u64>> = Mutex::new(None);
static WAKE: Condvar = Condvar::new();
static STARTED: std::sync::Once = std::sync::Once::new();

/// Asks the background thread to run grace periods until `target` is reached.
///
/// Takes a short lock but never waits for a grace period.
pub(crate) fn request(target: u64) {
    if cfg!(loom) {
        // NOTE: loom models cannot host a thread that never ends, so under loom a polled
        // grace period completes only when some thread calls `synchronize_rcu`.
        return;
    }
    STARTED.call_once(|| {
        std::thread::Builder::new()
            .name("rcu-gp".into())
            .spawn(run)
            .expect("rcu: failed to spawn the grace-period thread `rcu-gp`");
    });

    let mut requested = REQUESTED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let newer = match *requested {
        Some(pending) => target.wrapping_sub(pending) as i64 > 0,
        None => true,
    };
    if newer {
        *requested = Some(target);
    }
    WAKE.notify_one();
}

fn run() {
    loop {
        let target = {
            let mut requested = REQUESTED
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            loop {
                if let Some(target) = requested.take() {
                    break target;
                }
                requested = WAKE
                    .wait(requested)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        };
        wait_for(target);
    }
}
