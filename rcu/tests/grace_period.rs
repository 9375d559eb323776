//! Grace-period engine tests: waiting, sharing, polling and misuse.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

#[test]
fn synchronize_without_readers_returns() {
    let before = rcu::stats().grace_periods;
    rcu::synchronize_rcu();
    assert!(rcu::stats().grace_periods > before);
}

#[test]
fn synchronize_waits_for_preexisting_reader() {
    let entered = Arc::new(AtomicBool::new(false));
    let released = Arc::new(AtomicBool::new(false));
    let reader = {
        let entered = Arc::clone(&entered);
        let released = Arc::clone(&released);
        thread::spawn(move || {
            let guard = rcu::read_lock();
            entered.store(true, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(100));
            released.store(true, Ordering::SeqCst);
            drop(guard);
        })
    };
    while !entered.load(Ordering::SeqCst) {
        thread::yield_now();
    }
    rcu::synchronize_rcu();
    assert!(
        released.load(Ordering::SeqCst),
        "synchronize_rcu returned while a pre-existing reader was still in its section"
    );
    reader.join().unwrap();
}

#[test]
fn nested_sections_end_with_outermost() {
    let outer = rcu::read_lock();
    let inner = rcu::read_lock();
    drop(outer);
    assert!(
        rcu::read_lock_held(),
        "the inner guard still holds the section"
    );
    drop(inner);
    assert!(!rcu::read_lock_held());
    rcu::synchronize_rcu();
}

#[test]
fn reader_in_new_section_does_not_block_grace_period() {
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _guard = rcu::read_lock();
                std::hint::spin_loop();
            }
        })
    };
    for _ in 0..1000 {
        rcu::synchronize_rcu();
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
}

#[test]
fn polled_state_completes_after_grace_period() {
    let state = rcu::get_state_synchronize_rcu();
    let guard = rcu::read_lock();
    assert!(!rcu::poll_state_synchronize_rcu(state) || rcu::stats().grace_periods > 0);
    drop(guard);
    rcu::synchronize_rcu();
    assert!(rcu::poll_state_synchronize_rcu(state));
}

#[test]
fn start_poll_completes_without_synchronize() {
    let state = rcu::start_poll_synchronize_rcu();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !rcu::poll_state_synchronize_rcu(state) {
        assert!(
            std::time::Instant::now() < deadline,
            "polled grace period never completed"
        );
        thread::sleep(Duration::from_micros(100));
    }
}

#[test]
fn start_poll_inside_section_does_not_block() {
    let guard = rcu::read_lock();
    let state = rcu::start_poll_synchronize_rcu();
    assert!(
        !rcu::poll_state_synchronize_rcu(state),
        "a grace period completed while this thread's section, which began before it, is open"
    );
    drop(guard);
    rcu::cond_synchronize_rcu(state);
    assert!(rcu::poll_state_synchronize_rcu(state));
}

#[test]
fn completed_state_always_reads_completed() {
    assert!(rcu::poll_state_synchronize_rcu(rcu::GpState::COMPLETED));
    assert!(rcu::poll_state_synchronize_rcu(
        rcu::get_completed_synchronize_rcu()
    ));
    rcu::cond_synchronize_rcu(rcu::GpState::COMPLETED);
}

#[test]
#[should_panic(expected = "synchronize_rcu() called inside an RCU read-side critical section")]
fn synchronize_inside_section_panics() {
    let _guard = rcu::read_lock();
    rcu::synchronize_rcu();
}

#[test]
#[should_panic(expected = "cond_synchronize_rcu() called inside an RCU read-side critical section")]
fn cond_synchronize_inside_section_panics() {
    let _guard = rcu::read_lock();
    rcu::cond_synchronize_rcu(rcu::GpState::COMPLETED);
}

#[test]
#[should_panic(expected = "End the section first (drop every Guard, or call Guard::unlock)")]
fn misuse_message_names_the_fix() {
    let outer = rcu::read_lock();
    let _inner = rcu::read_lock();
    drop(outer);
    rcu::synchronize_rcu();
}

#[test]
fn stats_count_registered_readers() {
    let before = rcu::stats().readers_registered_total;
    thread::spawn(|| drop(rcu::read_lock())).join().unwrap();
    assert!(rcu::stats().readers_registered_total > before);
}

#[test]
fn wait_time_is_counted() {
    let waited = Arc::new(AtomicU64::new(0));
    let before = rcu::stats().wait_time;
    rcu::synchronize_rcu();
    waited.store(1, Ordering::Relaxed);
    assert!(rcu::stats().wait_time >= before);
}
