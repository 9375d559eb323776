//! Callback tests that change the callback limit or count grace periods, so they run one
//! at a time in a process of their own.

use rcu::{HasField, RcuHead};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Serializes the tests of this file.
static QUIET: Mutex<()> = Mutex::new(());

fn quiet() -> MutexGuard<'static, ()> {
    let guard = QUIET.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    rcu::set_callback_limit(rcu::DEFAULT_CALLBACK_LIMIT);
    rcu::rcu_barrier();
    guard
}

static DROPS: AtomicUsize = AtomicUsize::new(0);

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Object {
    #[field]
    head: RcuHead,
}

impl Drop for Object {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

fn retire() {
    rcu::kfree_rcu(Box::new(Object {
        head: RcuHead::new(),
    }));
}

/// Enters and leaves read-side critical sections of about 100 µs each until dropped, so
/// every grace period waits for a reader and a producer easily outruns reclamation.
struct BusyReader {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl BusyReader {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let guard = rcu::read_lock();
                    let entered = Instant::now();
                    while entered.elapsed() < Duration::from_micros(100) {
                        std::hint::spin_loop();
                    }
                    drop(guard);
                }
            })
        };
        BusyReader {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BusyReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

#[test]
fn barrier_with_nothing_queued_runs_no_grace_period() {
    let _quiet = quiet();
    retire();
    rcu::rcu_barrier();

    let before = rcu::stats().grace_periods;
    for _ in 0..100 {
        rcu::rcu_barrier();
    }
    assert_eq!(rcu::stats().grace_periods, before);
}

#[test]
fn stats_count_queued_and_invoked_callbacks() {
    let _quiet = quiet();
    let before = rcu::stats();
    for _ in 0..1000 {
        retire();
    }
    rcu::rcu_barrier();
    let after = rcu::stats();
    assert_eq!(after.callbacks_queued - before.callbacks_queued, 1000);
    assert_eq!(after.callbacks_invoked - before.callbacks_invoked, 1000);
    assert_eq!(after.callback_backlog, 0);
    assert!(after.largest_batch >= 1);
    assert!(after.largest_batch <= after.callbacks_invoked);
}

#[test]
fn backpressure_keeps_backlog_bounded() {
    let _quiet = quiet();
    const LIMIT: u64 = 2_000;
    rcu::set_callback_limit(LIMIT as usize);
    let _reader = BusyReader::start();

    let mut max_backlog = 0;
    for i in 0..300_000 {
        retire();
        if i % 64 == 0 {
            max_backlog = max_backlog.max(rcu::stats().callback_backlog);
        }
    }
    rcu::set_callback_limit(rcu::DEFAULT_CALLBACK_LIMIT);

    // One thread checks the backlog every LIMIT / 16 calls, so it may pass the limit by
    // that much before it waits.
    assert!(
        max_backlog <= LIMIT + LIMIT / 16,
        "backlog reached {max_backlog} with a limit of {LIMIT}"
    );
    rcu::rcu_barrier();
    assert_eq!(rcu::stats().callback_backlog, 0);
}

#[test]
fn inside_section_goes_over_limit_without_blocking() {
    let _quiet = quiet();
    rcu::set_callback_limit(100);
    let drops_before = DROPS.load(Ordering::SeqCst);

    let guard = rcu::read_lock();
    for _ in 0..1_000 {
        retire();
    }
    // Nothing can have run: this thread's section holds up every grace period.
    let backlog = rcu::stats().callback_backlog;
    assert!(backlog >= 1_000, "backlog {backlog} inside the section");
    assert_eq!(DROPS.load(Ordering::SeqCst), drops_before);
    drop(guard);

    rcu::rcu_barrier();
    assert_eq!(DROPS.load(Ordering::SeqCst) - drops_before, 1_000);
    rcu::set_callback_limit(rcu::DEFAULT_CALLBACK_LIMIT);
}

#[test]
fn limit_zero_waits_for_each_callback() {
    let _quiet = quiet();
    rcu::set_callback_limit(0);
    let drops_before = DROPS.load(Ordering::SeqCst);
    for done in 1..=50 {
        retire();
        assert_eq!(rcu::stats().callback_backlog, 0);
        assert_eq!(DROPS.load(Ordering::SeqCst) - drops_before, done);
    }
    rcu::set_callback_limit(rcu::DEFAULT_CALLBACK_LIMIT);
}

#[test]
fn unlimited_backlog_never_waits() {
    let _quiet = quiet();
    rcu::set_callback_limit(usize::MAX);
    assert_eq!(rcu::callback_limit(), usize::MAX);

    // A reader on another thread holds up every grace period, so a producer that waited
    // would wait until the end of the test.
    let (entered_tx, entered) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let reader = thread::spawn(move || {
        let guard = rcu::read_lock();
        entered_tx.send(()).unwrap();
        released.recv().unwrap();
        drop(guard);
    });
    entered.recv().unwrap();

    let backlog_before = rcu::stats().callback_backlog;
    for _ in 0..50_000 {
        retire();
    }
    assert!(rcu::stats().callback_backlog >= backlog_before + 50_000);

    release.send(()).unwrap();
    reader.join().unwrap();
    rcu::set_callback_limit(rcu::DEFAULT_CALLBACK_LIMIT);
    rcu::rcu_barrier();
    assert_eq!(rcu::stats().callback_backlog, 0);
}
