//! Readers and updaters racing over shared `Rcu` pointers.
//!
//! Every value carries a canary that its drop poisons and a unique id that its drop
//! records. Readers check the canary before and after lingering on a value, so a value
//! freed under a reader shows up as a poisoned or garbage canary. At the end every id
//! must have been dropped exactly once.

use rcu::{DeferredRcu, Rcu, RcuBox};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

const LIVE: u64 = 0x5AFE_5AFE_5AFE_5AFE;
const FREED: u64 = 0xDEAD_DEAD_DEAD_DEAD;

const READERS: usize = 3;
const UPDATERS: usize = 3;
const UPDATES_PER_THREAD: u64 = 1500;

/// Shared bookkeeping of one test: which ids exist and which were dropped.
struct Ledger {
    next_id: AtomicUsize,
    dropped: Vec<AtomicBool>,
    reads: AtomicU64,
}

impl Ledger {
    fn new() -> Arc<Ledger> {
        let capacity = 1 + UPDATERS * UPDATES_PER_THREAD as usize * 2;
        Arc::new(Ledger {
            next_id: AtomicUsize::new(0),
            dropped: (0..capacity).map(|_| AtomicBool::new(false)).collect(),
            reads: AtomicU64::new(0),
        })
    }

    fn created(&self) -> usize {
        self.next_id.load(Ordering::SeqCst)
    }

    fn assert_each_dropped_once(&self) {
        let created = self.created();
        for (id, dropped) in self.dropped[..created].iter().enumerate() {
            assert!(
                dropped.load(Ordering::SeqCst),
                "value {id} was never dropped"
            );
        }
    }
}

/// A value with a canary, a unique id and a payload.
struct Item {
    /// Atomic so that a reader that races with a premature drop reads a poisoned value
    /// instead of racing on a plain field.
    canary: AtomicU64,
    id: usize,
    value: u64,
    ledger: Arc<Ledger>,
}

impl Item {
    fn new(value: u64, ledger: &Arc<Ledger>) -> Item {
        let id = ledger.next_id.fetch_add(1, Ordering::SeqCst);
        Item {
            canary: AtomicU64::new(LIVE),
            id,
            value,
            ledger: Arc::clone(ledger),
        }
    }

    /// Checks the canary, lingers, and checks it again.
    fn check(&self) -> u64 {
        assert_eq!(
            self.canary.load(Ordering::Relaxed),
            LIVE,
            "value {} freed",
            self.id
        );
        for _ in 0..20 {
            std::hint::spin_loop();
        }
        assert_eq!(
            self.canary.load(Ordering::Relaxed),
            LIVE,
            "value {} freed while a reader held it",
            self.id
        );
        self.ledger.reads.fetch_add(1, Ordering::Relaxed);
        self.value
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        let previous = self.canary.swap(FREED, Ordering::Relaxed);
        assert_eq!(previous, LIVE, "value {} dropped twice", self.id);
        let already = self.ledger.dropped[self.id].swap(true, Ordering::SeqCst);
        assert!(!already, "value {} dropped twice", self.id);
    }
}

/// Runs `READERS` readers that check every value they see until the updaters finish.
/// With `monotonic`, each reader also checks that the values it sees never go down.
fn spawn_readers<F>(
    read: F,
    stop: &Arc<AtomicBool>,
    start: &Arc<Barrier>,
    monotonic: bool,
) -> Vec<thread::JoinHandle<()>>
where
    F: Fn(&rcu::Guard) -> Option<u64> + Send + Sync + 'static,
{
    let read = Arc::new(read);
    (0..READERS)
        .map(|_| {
            let read = Arc::clone(&read);
            let stop = Arc::clone(stop);
            let start = Arc::clone(start);
            thread::spawn(move || {
                start.wait();
                let mut last = 0;
                while !stop.load(Ordering::Relaxed) {
                    let guard = rcu::read_lock();
                    let value = read(&guard).expect("the pointer is never null here");
                    drop(guard);
                    if monotonic {
                        assert!(value >= last, "saw {value} after {last}");
                        last = value;
                    }
                }
            })
        })
        .collect()
}

/// Runs `UPDATERS` updaters that call `update(thread, round)`, then stops the readers.
fn run_updaters<F>(
    update: F,
    readers: Vec<thread::JoinHandle<()>>,
    stop: &AtomicBool,
    start: &Barrier,
) where
    F: Fn(u64, u64) + Send + Sync + 'static,
{
    let update = Arc::new(update);
    let updaters: Vec<_> = (0..UPDATERS as u64)
        .map(|thread_index| {
            let update = Arc::clone(&update);
            thread::spawn(move || {
                for round in 0..UPDATES_PER_THREAD {
                    update(thread_index, round);
                }
            })
        })
        .collect();
    start.wait();
    for updater in updaters {
        updater.join().expect("an updater panicked");
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().expect("a reader panicked");
    }
}

fn barrier() -> Arc<Barrier> {
    Arc::new(Barrier::new(READERS + 1))
}

#[test]
fn swap_with_waiting_reclaim() {
    let ledger = Ledger::new();
    let ptr = Arc::new(Rcu::new(Box::new(Item::new(0, &ledger))));
    let stop = Arc::new(AtomicBool::new(false));
    let start = barrier();

    let readers = {
        let ptr = Arc::clone(&ptr);
        spawn_readers(
            move |guard| ptr.dereference(guard).map(Item::check),
            &stop,
            &start,
            false,
        )
    };
    {
        let ptr = Arc::clone(&ptr);
        let ledger = Arc::clone(&ledger);
        run_updaters(
            move |_, round| {
                let old = ptr.swap(Box::new(Item::new(round, &ledger)));
                // Alternate between waiting in drop and waiting in `synchronize`.
                if round % 2 == 0 {
                    drop(old);
                } else {
                    let item = old.expect("never null").synchronize();
                    assert_eq!(item.canary.load(Ordering::Relaxed), LIVE);
                }
            },
            readers,
            &stop,
            &start,
        );
    }

    drop(Arc::try_unwrap(ptr).expect("every thread has finished"));
    ledger.assert_each_dropped_once();
    assert_eq!(ledger.created(), 1 + UPDATERS * UPDATES_PER_THREAD as usize);
    assert!(ledger.reads.load(Ordering::Relaxed) > 0);
}

#[test]
fn compare_exchange_counts_exactly() {
    let ledger = Ledger::new();
    let ptr = Arc::new(Rcu::new(Box::new(Item::new(0, &ledger))));
    let stop = Arc::new(AtomicBool::new(false));
    let start = barrier();

    let readers = {
        let ptr = Arc::clone(&ptr);
        spawn_readers(
            move |guard| ptr.dereference(guard).map(Item::check),
            &stop,
            &start,
            true,
        )
    };
    {
        let ptr = Arc::clone(&ptr);
        let ledger = Arc::clone(&ledger);
        run_updaters(
            move |_, _| loop {
                let guard = rcu::read_lock();
                let current = ptr.dereference(&guard);
                let next = current.expect("never null").check() + 1;
                match ptr.compare_exchange(current, Box::new(Item::new(next, &ledger))) {
                    Ok(old) => {
                        drop(guard);
                        drop(old);
                        break;
                    }
                    // The rejected value was never published: dropping it is immediate.
                    Err(rejected) => drop(rejected),
                }
            },
            readers,
            &stop,
            &start,
        );
    }

    let final_value = ptr.dereference(&rcu::read_lock()).map(|item| item.value);
    assert_eq!(final_value, Some(UPDATERS as u64 * UPDATES_PER_THREAD));
    drop(Arc::try_unwrap(ptr).expect("every thread has finished"));
    ledger.assert_each_dropped_once();
}

#[test]
fn update_loop_counts_exactly() {
    let ledger = Ledger::new();
    let ptr = Arc::new(Rcu::new(Box::new(Item::new(0, &ledger))));
    let stop = Arc::new(AtomicBool::new(false));
    let start = barrier();

    let readers = {
        let ptr = Arc::clone(&ptr);
        spawn_readers(
            move |guard| ptr.dereference(guard).map(Item::check),
            &stop,
            &start,
            true,
        )
    };
    {
        let ptr = Arc::clone(&ptr);
        let ledger = Arc::clone(&ledger);
        run_updaters(
            move |_, _| {
                let old = ptr.update(|current| {
                    let next = current.expect("never null").check() + 1;
                    Box::new(Item::new(next, &ledger))
                });
                drop(old);
            },
            readers,
            &stop,
            &start,
        );
    }

    let final_value = ptr.dereference(&rcu::read_lock()).map(|item| item.value);
    assert_eq!(final_value, Some(UPDATERS as u64 * UPDATES_PER_THREAD));
    drop(Arc::try_unwrap(ptr).expect("every thread has finished"));
    ledger.assert_each_dropped_once();
}

#[test]
fn deferred_rcu_never_blocks_updaters() {
    let ledger = Ledger::new();
    let ptr: Arc<DeferredRcu<Item>> =
        Arc::new(DeferredRcu::from(RcuBox::new(Item::new(0, &ledger))));
    let stop = Arc::new(AtomicBool::new(false));
    let start = barrier();

    let readers = {
        let ptr = Arc::clone(&ptr);
        spawn_readers(
            move |guard| ptr.dereference(guard).map(Item::check),
            &stop,
            &start,
            true,
        )
    };
    {
        let ptr = Arc::clone(&ptr);
        let ledger = Arc::clone(&ledger);
        run_updaters(
            move |_, round| {
                // Updating and dropping the old value inside a section is allowed here,
                // because nothing waits for a grace period.
                let guard = rcu::read_lock();
                let old = if round % 2 == 0 {
                    ptr.update(|current| {
                        let next = current.expect("never null").check() + 1;
                        RcuBox::new(Item::new(next, &ledger))
                    })
                } else {
                    let current = ptr.dereference(&guard);
                    let next = current.expect("never null").check() + 1;
                    match ptr.compare_exchange(current, RcuBox::new(Item::new(next, &ledger))) {
                        Ok(old) => old,
                        Err(rejected) => {
                            drop(rejected);
                            ptr.update(|current| {
                                let next = current.expect("never null").check() + 1;
                                RcuBox::new(Item::new(next, &ledger))
                            })
                        }
                    }
                };
                drop(old);
                drop(guard);
            },
            readers,
            &stop,
            &start,
        );
    }

    let final_value = ptr.dereference(&rcu::read_lock()).map(|item| item.value);
    assert_eq!(final_value, Some(UPDATERS as u64 * UPDATES_PER_THREAD));

    // Dropping the pointer itself inside a section is allowed too.
    let guard = rcu::read_lock();
    let last = ptr.dereference(&guard).expect("never null");
    drop(Arc::try_unwrap(ptr).expect("every thread has finished"));
    assert_eq!(last.check(), UPDATERS as u64 * UPDATES_PER_THREAD);
    drop(guard);

    rcu::rcu_barrier();
    ledger.assert_each_dropped_once();
}

#[test]
fn arc_values_shared_with_readers() {
    let ledger = Ledger::new();
    let ptr = Arc::new(Rcu::new(Arc::new(Item::new(0, &ledger))));
    let stop = Arc::new(AtomicBool::new(false));
    let start = barrier();

    let readers = {
        let ptr = Arc::clone(&ptr);
        spawn_readers(
            move |guard| ptr.dereference(guard).map(Item::check),
            &stop,
            &start,
            false,
        )
    };
    {
        let ptr = Arc::clone(&ptr);
        let ledger = Arc::clone(&ledger);
        run_updaters(
            move |_, round| {
                let kept = Arc::new(Item::new(round, &ledger));
                drop(ptr.swap(Arc::clone(&kept)));
                // The updater's clone outlives the publication; the value is dropped by
                // whichever of the two owners goes last.
                assert_eq!(kept.check(), round);
            },
            readers,
            &stop,
            &start,
        );
    }

    drop(Arc::try_unwrap(ptr).expect("every thread has finished"));
    ledger.assert_each_dropped_once();
}

#[test]
#[should_panic(
    expected = "Drop for rcu::RcuOld<P, Wait> called inside an RCU read-side critical section"
)]
fn old_drop_in_section_panics() {
    let ptr = Rcu::new(Box::new(1));
    let old = ptr.swap(Box::new(2));
    let _guard = rcu::read_lock();
    drop(old);
}

#[test]
#[should_panic(
    expected = "Drop for rcu::Rcu<P, Wait> called inside an RCU read-side critical section"
)]
fn rcu_drop_in_section_panics() {
    let ptr = Rcu::new(Box::new(1));
    let _guard = rcu::read_lock();
    drop(ptr);
}

#[test]
#[should_panic(
    expected = "Drop for rcu::Rcu<P, Wait> called inside an RCU read-side critical section"
)]
fn null_rcu_drop_in_section_panics() {
    let ptr = Rcu::<Box<u8>>::null();
    let _guard = rcu::read_lock();
    drop(ptr);
}
