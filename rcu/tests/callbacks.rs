//! Callbacks: reclamation after grace periods, rcu_barrier across threads, callbacks that
//! queue callbacks or wait, panics, misuse inside sections and on the callback thread.
//!
//! Tests that change the callback limit or count grace periods live in
//! `callbacks_quiet.rs`, where they do not share the process with these.

use rcu::{GpState, HasField, RcuCallback, RcuHead};
use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::thread;
use std::time::Duration;

const ALIVE: u64 = 0xA11C_E0A1_1CE0_A11C;
const POISON: u64 = 0xDEAD_DEAD_DEAD_DEAD;

/// Per-object drop counts and the mistakes seen by `Drop`, which cannot assert: a panic
/// in a callback is caught and would only be logged.
struct DropLog {
    drops: Vec<AtomicU8>,
    early_drops: AtomicUsize,
    bad_canaries: AtomicUsize,
}

impl DropLog {
    fn new(objects: usize) -> Arc<Self> {
        Arc::new(DropLog {
            drops: (0..objects).map(|_| AtomicU8::new(0)).collect(),
            early_drops: AtomicUsize::new(0),
            bad_canaries: AtomicUsize::new(0),
        })
    }

    fn assert_each_dropped_once(&self) {
        for (id, count) in self.drops.iter().enumerate() {
            assert_eq!(count.load(Ordering::SeqCst), 1, "object {id} drop count");
        }
        assert_eq!(self.early_drops.load(Ordering::SeqCst), 0, "dropped before a grace period");
        assert_eq!(self.bad_canaries.load(Ordering::SeqCst), 0, "canary damaged before drop");
    }

    fn dropped(&self) -> usize {
        self.drops
            .iter()
            .map(|count| usize::from(count.load(Ordering::SeqCst)))
            .sum()
    }
}

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Tracked {
    id: usize,
    canary: AtomicU64,
    /// Taken just before the object was queued; a grace period must have elapsed since.
    queued_at: GpState,
    log: Arc<DropLog>,
    #[field]
    head: RcuHead,
}

impl Tracked {
    fn new(id: usize, log: &Arc<DropLog>) -> Box<Self> {
        Box::new(Tracked {
            id,
            canary: AtomicU64::new(ALIVE),
            queued_at: rcu::get_completed_synchronize_rcu(),
            log: Arc::clone(log),
            head: RcuHead::new(),
        })
    }

    fn retire(mut self: Box<Self>) {
        self.queued_at = rcu::get_state_synchronize_rcu();
        rcu::kfree_rcu(self);
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if !rcu::poll_state_synchronize_rcu(self.queued_at) {
            self.log.early_drops.fetch_add(1, Ordering::SeqCst);
        }
        if self.canary.swap(POISON, Ordering::SeqCst) != ALIVE {
            self.log.bad_canaries.fetch_add(1, Ordering::SeqCst);
        }
        self.log.drops[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn kfree_rcu_drops_each_object_once() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 20_000;
    let log = DropLog::new(THREADS * PER_THREAD);

    let producers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    Tracked::new(thread * PER_THREAD + i, &log).retire();
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }

    rcu::rcu_barrier();
    log.assert_each_dropped_once();
}

#[test]
fn reader_sees_retired_object_intact() {
    let log = DropLog::new(1);
    let shared = Arc::new(AtomicPtr::new(Box::into_raw(Tracked::new(0, &log))));
    let (loaded_tx, loaded_rx) = mpsc::channel();
    let (retired_tx, retired_rx) = mpsc::channel();

    let reader = {
        let shared = Arc::clone(&shared);
        let log = Arc::clone(&log);
        thread::spawn(move || {
            let guard = rcu::read_lock();
            let object = shared.load(Ordering::Acquire);
            loaded_tx.send(()).unwrap();
            retired_rx.recv().unwrap();
            // The writer has unpublished and retired the object; this section began
            // before that, so the object must stay intact until the guard is dropped.
            for _ in 0..20 {
                // SAFETY: loaded inside the section that is still open.
                let canary = unsafe { (*object).canary.load(Ordering::SeqCst) };
                assert_eq!(canary, ALIVE, "retired object freed under a reader");
                assert_eq!(log.dropped(), 0, "retired object dropped under a reader");
                thread::sleep(Duration::from_millis(5));
            }
            drop(guard);
        })
    };

    loaded_rx.recv().unwrap();
    let old = shared.swap(core::ptr::null_mut(), Ordering::AcqRel);
    // SAFETY: `old` came from `Box::into_raw` and is no longer published.
    unsafe { Box::from_raw(old) }.retire();
    retired_tx.send(()).unwrap();

    reader.join().unwrap();
    rcu::rcu_barrier();
    log.assert_each_dropped_once();
}

#[test]
fn kfree_rcu_inside_section_waits_for_it() {
    let log = DropLog::new(100);
    let guard = rcu::read_lock();
    for id in 0..100 {
        Tracked::new(id, &log).retire();
    }
    // This thread's own section began before every call, so no grace period can end.
    thread::sleep(Duration::from_millis(50));
    assert_eq!(log.dropped(), 0, "dropped while the caller's section was open");
    drop(guard);

    rcu::rcu_barrier();
    log.assert_each_dropped_once();
}

/// A callback that counts itself and may sleep, to make barriers wait.
#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Counted {
    ran: Arc<AtomicUsize>,
    sleep: Duration,
    #[field]
    head: RcuHead,
}

impl Counted {
    fn queue(ran: &Arc<AtomicUsize>, sleep: Duration) {
        rcu::call_rcu_box(Box::new(Counted {
            ran: Arc::clone(ran),
            sleep,
            head: RcuHead::new(),
        }));
    }
}

impl RcuCallback for Counted {
    fn invoke(self: Box<Self>) {
        thread::sleep(self.sleep);
        self.ran.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn barrier_waits_for_live_threads_callbacks() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 50;
    let ran = Arc::new(AtomicUsize::new(0));
    let queued = Arc::new(Barrier::new(THREADS + 1));
    let checked = Arc::new(Barrier::new(THREADS + 1));

    let producers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (ran, queued, checked) = (Arc::clone(&ran), Arc::clone(&queued), Arc::clone(&checked));
            thread::spawn(move || {
                for _ in 0..PER_THREAD {
                    Counted::queue(&ran, Duration::from_micros(200));
                }
                queued.wait();
                // Stay alive while the main thread's barrier runs, so the callbacks sit
                // in the slot of a live thread.
                checked.wait();
            })
        })
        .collect();

    queued.wait();
    rcu::rcu_barrier();
    assert_eq!(ran.load(Ordering::SeqCst), THREADS * PER_THREAD);
    checked.wait();
    for producer in producers {
        producer.join().unwrap();
    }
}

#[test]
fn barrier_reaches_exited_threads_callbacks() {
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..8 {
        let ran = Arc::clone(&ran);
        thread::spawn(move || {
            for _ in 0..10 {
                Counted::queue(&ran, Duration::ZERO);
            }
        })
        .join()
        .unwrap();
    }
    rcu::rcu_barrier();
    assert_eq!(ran.load(Ordering::SeqCst), 80);
}

#[test]
fn more_threads_than_slots_lose_nothing() {
    // More threads at once than the queue has slots, so some share the overflow slot.
    const THREADS: usize = 160;
    let ran = Arc::new(AtomicUsize::new(0));
    let queued = Arc::new(Barrier::new(THREADS + 1));
    let producers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (ran, queued) = (Arc::clone(&ran), Arc::clone(&queued));
            thread::spawn(move || {
                for _ in 0..20 {
                    Counted::queue(&ran, Duration::ZERO);
                }
                queued.wait();
            })
        })
        .collect();
    queued.wait();
    rcu::rcu_barrier();
    assert_eq!(ran.load(Ordering::SeqCst), THREADS * 20);
    for producer in producers {
        producer.join().unwrap();
    }
}

struct RetireOnExit(Arc<AtomicUsize>);

impl Drop for RetireOnExit {
    fn drop(&mut self) {
        Counted::queue(&self.0, Duration::ZERO);
    }
}

thread_local! {
    static RETIRE_ON_EXIT: std::cell::RefCell<Option<RetireOnExit>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn callbacks_queued_during_thread_exit_run() {
    let ran = Arc::new(AtomicUsize::new(0));
    // Registers the destructor after the thread's queue slot: it runs while the slot is
    // still claimed, or after, depending on the platform's destructor order.
    let late = Arc::clone(&ran);
    thread::spawn(move || {
        Counted::queue(&late, Duration::ZERO);
        RETIRE_ON_EXIT.with(|slot| *slot.borrow_mut() = Some(RetireOnExit(late)));
    })
    .join()
    .unwrap();
    // Registers the destructor before the slot: the opposite order.
    let early = Arc::clone(&ran);
    thread::spawn(move || {
        RETIRE_ON_EXIT.with(|slot| *slot.borrow_mut() = Some(RetireOnExit(Arc::clone(&early))));
        Counted::queue(&early, Duration::ZERO);
    })
    .join()
    .unwrap();

    rcu::rcu_barrier();
    assert_eq!(ran.load(Ordering::SeqCst), 4);
}

/// Queues a copy of itself `remaining` more times, and one `kfree_rcu` each time.
#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Chain {
    remaining: usize,
    ran: Arc<AtomicUsize>,
    log: Arc<DropLog>,
    #[field]
    head: RcuHead,
}

impl RcuCallback for Chain {
    fn invoke(mut self: Box<Self>) {
        let step = self.ran.fetch_add(1, Ordering::SeqCst);
        Tracked::new(step, &self.log).retire();
        if self.remaining > 0 {
            self.remaining -= 1;
            rcu::call_rcu_box(self);
        }
    }
}

#[test]
fn callbacks_queue_more_callbacks() {
    const STEPS: usize = 10;
    let ran = Arc::new(AtomicUsize::new(0));
    let log = DropLog::new(STEPS + 1);
    rcu::call_rcu_box(Box::new(Chain {
        remaining: STEPS,
        ran: Arc::clone(&ran),
        log: Arc::clone(&log),
        head: RcuHead::new(),
    }));

    // Each barrier waits only for callbacks queued before it, so a chain of N steps needs
    // up to N + 1 barriers (and one more for the last kfree_rcu).
    for _ in 0..STEPS + 2 {
        rcu::rcu_barrier();
    }
    assert_eq!(ran.load(Ordering::SeqCst), STEPS + 1);
    log.assert_each_dropped_once();
}

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Synchronizes {
    done: mpsc::Sender<GpState>,
    #[field]
    head: RcuHead,
}

impl RcuCallback for Synchronizes {
    fn invoke(self: Box<Self>) {
        let before = rcu::get_state_synchronize_rcu();
        rcu::synchronize_rcu();
        self.done.send(before).unwrap();
    }
}

#[test]
fn callback_may_call_synchronize_rcu() {
    let (done, finished) = mpsc::channel();
    rcu::call_rcu_box(Box::new(Synchronizes {
        done,
        head: RcuHead::new(),
    }));
    rcu::rcu_barrier();
    let before = finished
        .recv_timeout(Duration::from_secs(10))
        .expect("the callback did not finish");
    assert!(rcu::poll_state_synchronize_rcu(before));
}

/// Records error logs, to check what a panicking callback reports.
struct ErrorLog(Mutex<Vec<String>>);

impl log::Log for ErrorLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Error
    }
    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            self.0.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

static ERRORS: ErrorLog = ErrorLog(Mutex::new(Vec::new()));

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct MayPanic {
    panics: bool,
    ran: Arc<AtomicUsize>,
    #[field]
    head: RcuHead,
}

impl RcuCallback for MayPanic {
    fn invoke(self: Box<Self>) {
        assert!(!self.panics, "deliberate panic in an RCU callback");
        self.ran.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn panicking_callback_is_logged_and_others_run() {
    let _ = log::set_logger(&ERRORS);
    log::set_max_level(log::LevelFilter::Error);
    let panicked_before = rcu::stats().callbacks_panicked;

    let ran = Arc::new(AtomicUsize::new(0));
    for i in 0..11 {
        rcu::call_rcu_box(Box::new(MayPanic {
            panics: i == 5,
            ran: Arc::clone(&ran),
            head: RcuHead::new(),
        }));
    }
    rcu::rcu_barrier();
    assert_eq!(ran.load(Ordering::SeqCst), 10, "the good callbacks all ran");
    assert!(rcu::stats().callbacks_panicked > panicked_before);
    let logged = ERRORS.0.lock().unwrap().clone();
    assert!(
        logged
            .iter()
            .any(|line| line.contains("deliberate panic in an RCU callback")),
        "no error log names the panic: {logged:?}"
    );

    // The crate keeps working.
    let log = DropLog::new(10);
    for id in 0..10 {
        Tracked::new(id, &log).retire();
    }
    rcu::rcu_barrier();
    log.assert_each_dropped_once();
}

#[test]
#[should_panic(expected = "rcu_barrier() called inside an RCU read-side critical section")]
fn barrier_inside_section_panics() {
    let _guard = rcu::read_lock();
    rcu::rcu_barrier();
}

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct CallsBarrier {
    outcome: mpsc::Sender<String>,
    #[field]
    head: RcuHead,
}

impl RcuCallback for CallsBarrier {
    fn invoke(self: Box<Self>) {
        let outcome = match std::panic::catch_unwind(rcu::rcu_barrier) {
            Ok(()) => "returned".to_owned(),
            Err(payload) => payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default(),
        };
        self.outcome.send(outcome).unwrap();
    }
}

#[test]
fn barrier_on_callback_thread_panics() {
    let (outcome, received) = mpsc::channel();
    rcu::call_rcu_box(Box::new(CallsBarrier {
        outcome,
        head: RcuHead::new(),
    }));
    let message = received
        .recv_timeout(Duration::from_secs(10))
        .expect("the callback did not run");
    assert!(
        message.contains("rcu_barrier() called from an RCU callback"),
        "unexpected outcome: {message:?}"
    );
}

unsafe fn count_raw(head: *mut RcuHead) {
    // SAFETY: `raw_call_rcu_from_many_threads` leaks a `Box<RawNode>` whose first field is
    // the head, and `RawNode` is `#[repr(C)]`.
    let node = unsafe { Box::from_raw(head.cast::<RawNode>()) };
    node.ran.fetch_add(1, Ordering::SeqCst);
}

#[repr(C)]
struct RawNode {
    head: RcuHead,
    ran: Arc<AtomicUsize>,
}

#[test]
fn raw_call_rcu_from_many_threads() {
    let ran = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..4)
        .map(|_| {
            let ran = Arc::clone(&ran);
            thread::spawn(move || {
                for _ in 0..5_000 {
                    let node = Box::into_raw(Box::new(RawNode {
                        head: RcuHead::new(),
                        ran: Arc::clone(&ran),
                    }));
                    // SAFETY: the node is fresh and leaked; `count_raw` takes it back.
                    unsafe { rcu::call_rcu(&raw mut (*node).head, count_raw) };
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }
    rcu::rcu_barrier();
    assert_eq!(ran.load(Ordering::SeqCst), 20_000);
}
