//! loom models of the grace-period engine.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p rcu --test loom_engine --release`.
//! Under loom the engine uses the `SeqCst`-fence reader barrier, and protected data is a
//! `loom::cell::UnsafeCell`, so loom reports any access by a reader that is not ordered
//! before the writer's reclamation.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicPtr, Ordering};
use loom::thread;

/// A protected object: `value` is written once at creation and poisoned at reclamation.
struct Object {
    value: UnsafeCell<u64>,
}

const LIVE: u64 = 7;
const POISON: u64 = 0xdead;

fn object() -> *mut Object {
    Box::into_raw(Box::new(Object {
        value: UnsafeCell::new(LIVE),
    }))
}

/// Poisons an unpublished object, as a free would. loom flags the write if any reader's
/// load of `value` is not ordered before it. The memory itself is leaked: a model that
/// catches a broken grace period should report the race, not crash on freed memory.
///
/// # Safety
///
/// `object` came from [`object`], is unpublished, and a grace period has elapsed.
unsafe fn reclaim(object: *mut Object) {
    // SAFETY: per the contract no reader can still reach the object.
    unsafe { (*object).value.with_mut(|value| *value = POISON) };
}

/// Runs `body` on a new loom thread that unregisters from RCU before it returns.
///
/// loom lets the model end as soon as a joined thread's closure returns, before that
/// thread's thread-local destructors have run, so the destructor that normally unregisters
/// a reader would race with the model's teardown. Unregistering explicitly is the same
/// code path, run at a point loom orders.
fn spawn_reader(body: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        body();
        rcu::unregister_thread();
    })
}

fn read_once(shared: &AtomicPtr<Object>) {
    let guard = rcu::read_lock();
    // Acquire pairs with the writer's Release publication.
    let object = shared.load(Ordering::Acquire);
    // SAFETY: the object was reachable inside this section, so the writer frees it only
    // after a grace period that waits for the section.
    let value = unsafe { (*object).value.with(|value| *value) };
    assert_eq!(value, LIVE, "reader saw a reclaimed object");
    drop(guard);
}

/// Unpublishes the current object, waits for a grace period and reclaims it, as an
/// updater does.
fn replace_and_reclaim(shared: &AtomicPtr<Object>) {
    // Release publishes the new object's contents to readers.
    let old = shared.swap(object(), Ordering::AcqRel);
    rcu::synchronize_rcu();
    // SAFETY: unpublished above, and a grace period has elapsed.
    unsafe { reclaim(old) };
}

/// Reclaims the object still published, once no other thread of the model remains.
fn reclaim_current(shared: &AtomicPtr<Object>) {
    // SAFETY: the caller has joined every other thread, so nothing can reach the object.
    unsafe { reclaim(shared.load(Ordering::Acquire)) };
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(4);
    builder.check(f);
}

#[test]
fn reader_never_sees_reclaimed_object() {
    model(|| {
        let shared = Arc::new(AtomicPtr::new(object()));
        let reader = {
            let shared = Arc::clone(&shared);
            spawn_reader(move || read_once(&shared))
        };

        replace_and_reclaim(&shared);

        reader.join().unwrap();
        reclaim_current(&shared);
    });
}

#[test]
fn nested_sections_hold_the_grace_period() {
    model(|| {
        let shared = Arc::new(AtomicPtr::new(object()));
        let reader = {
            let shared = Arc::clone(&shared);
            spawn_reader(move || {
                let outer = rcu::read_lock();
                let object = shared.load(Ordering::Acquire);
                {
                    let inner = rcu::read_lock();
                    drop(inner);
                }
                // SAFETY: still inside the outer section.
                let value = unsafe { (*object).value.with(|value| *value) };
                assert_eq!(value, LIVE, "inner unlock ended the outer section");
                drop(outer);
            })
        };

        replace_and_reclaim(&shared);

        reader.join().unwrap();
        reclaim_current(&shared);
    });
}

#[test]
fn two_concurrent_waiters_both_wait_for_reader() {
    model(|| {
        let first = Arc::new(AtomicPtr::new(object()));
        let second = Arc::new(AtomicPtr::new(object()));
        let reader = {
            let (first, second) = (Arc::clone(&first), Arc::clone(&second));
            spawn_reader(move || {
                read_once(&first);
                read_once(&second);
            })
        };
        let other_writer = {
            let second = Arc::clone(&second);
            thread::spawn(move || {
                replace_and_reclaim(&second);
            })
        };

        replace_and_reclaim(&first);

        reader.join().unwrap();
        other_writer.join().unwrap();
        reclaim_current(&first);
        reclaim_current(&second);
    });
}

#[test]
fn polled_state_never_completes_early() {
    model(|| {
        let shared = Arc::new(AtomicPtr::new(object()));
        let reader = {
            let shared = Arc::clone(&shared);
            spawn_reader(move || read_once(&shared))
        };
        let driver = thread::spawn(rcu::synchronize_rcu);

        let old = shared.swap(object(), Ordering::AcqRel);
        let state = rcu::get_state_synchronize_rcu();
        if rcu::poll_state_synchronize_rcu(state) {
            // SAFETY: the poll says a full grace period elapsed after the unpublish.
            unsafe { reclaim(old) };
        } else {
            rcu::cond_synchronize_rcu(state);
            assert!(rcu::poll_state_synchronize_rcu(state));
            // SAFETY: as above, after waiting.
            unsafe { reclaim(old) };
        }

        reader.join().unwrap();
        driver.join().unwrap();
        reclaim_current(&shared);
    });
}

#[test]
fn reader_registering_and_exiting_during_grace_period() {
    model(|| {
        let shared = Arc::new(AtomicPtr::new(object()));
        let early = {
            let shared = Arc::clone(&shared);
            spawn_reader(move || read_once(&shared))
        };
        let late = {
            let shared = Arc::clone(&shared);
            // Registers (first read_lock) and unregisters, as a thread does when it exits,
            // while the writer below may be in the middle of its scan.
            spawn_reader(move || read_once(&shared))
        };

        replace_and_reclaim(&shared);

        early.join().unwrap();
        late.join().unwrap();
        reclaim_current(&shared);
    });
}

/// A grace period may see the reader already in its next section, with the new
/// generation, and skip it: the earlier section's loads must still be ordered before the
/// reclamation. This model failed while the store that opens a section was `Relaxed`.
#[test]
fn back_to_back_sections_order_the_earlier_one() {
    model(|| {
        let shared = Arc::new(AtomicPtr::new(object()));
        let reader = {
            let shared = Arc::clone(&shared);
            spawn_reader(move || {
                read_once(&shared);
                drop(rcu::read_lock());
            })
        };
        let other_waiter = thread::spawn(rcu::synchronize_rcu);

        replace_and_reclaim(&shared);

        reader.join().unwrap();
        other_waiter.join().unwrap();
        reclaim_current(&shared);
    });
}
