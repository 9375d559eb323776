//! Concurrent `synchronize_rcu` callers share grace periods. Alone in its own test binary
//! so that no other test runs grace periods during the count.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

#[test]
fn concurrent_callers_share_grace_periods() {
    const CALLERS: usize = 8;
    const CALLS_EACH: usize = 200;
    let go = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..CALLERS)
        .map(|_| {
            let go = Arc::clone(&go);
            thread::spawn(move || {
                while !go.load(Ordering::Acquire) {
                    thread::yield_now();
                }
                for _ in 0..CALLS_EACH {
                    rcu::synchronize_rcu();
                }
            })
        })
        .collect();
    let start = rcu::stats().grace_periods;
    go.store(true, Ordering::Release);
    for thread in threads {
        thread.join().unwrap();
    }
    let used = rcu::stats().grace_periods - start;
    let calls = (CALLERS * CALLS_EACH) as u64;
    println!("{calls} calls from {CALLERS} threads used {used} grace periods");
    // Without sharing every call would run its own grace period. A round, one call from
    // each thread, should need at most two; the bound allows that with no slack for
    // rounding, and the benchmark reports the measured value.
    assert!(
        used * 4 <= calls,
        "{calls} calls from {CALLERS} threads used {used} grace periods: callers are not sharing"
    );
}
