//! Concurrent `synchronize_rcu` callers share grace periods. Alone in its own test binary
//! so that no other test runs grace periods during the count.
//!
//! The test does not depend on timing. A reader keeps the first grace period open until
//! every caller has taken its snapshot, which `Stats::grace_period_waiters` reports. At
//! that point each caller needs either the grace period in flight or the one after it,
//! so the batch must be served by at most two, however the threads were scheduled.

use std::sync::Barrier;
use std::thread;

const CALLERS: u64 = 8;
const ROUNDS: usize = 25;

#[test]
fn queued_callers_share_next_grace_period() {
    let mut total = 0;
    for round in 0..ROUNDS {
        let start = Barrier::new(CALLERS as usize + 1);
        let before = rcu::stats().grace_periods;
        thread::scope(|scope| {
            let guard = rcu::read_lock();
            for _ in 0..CALLERS {
                scope.spawn(|| {
                    start.wait();
                    rcu::synchronize_rcu();
                });
            }
            start.wait();
            while rcu::stats().grace_period_waiters < CALLERS {
                thread::yield_now();
            }
            // Every caller has its snapshot; none can return while the guard is held.
            assert_eq!(
                rcu::stats().grace_periods,
                before,
                "a grace period ended under a reader"
            );
            drop(guard);
        });
        let used = rcu::stats().grace_periods - before;
        assert!(
            used <= 2,
            "round {round}: {CALLERS} callers queued behind one grace period used {used}; \
             they should share the next one"
        );
        assert_eq!(rcu::stats().grace_period_waiters, 0);
        total += used;
    }
    println!("{ROUNDS} rounds of {CALLERS} callers used {total} grace periods");
}
