//! Walking a 1,000-entry list: `RcuList` under a guard against read-locked
//! `RwLock<Vec<Arc<T>>>` and `RwLock<LinkedList<T>>`.
//!
//! The measured thread sums every entry's value once per iteration. Alongside it run
//! zero or one extra reader threads doing the same walk, and one writer thread that
//! inserts an entry at the back and removes the front one, in a loop at full speed.
//! `RcuList` removals are reclaimed with `kfree_rcu`. Run: `cargo bench -p rcu --bench
//! list_iter`.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use rcu::{HasField, ListLinks, RcuHead, RcuList};
use std::collections::LinkedList;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, RwLock};
use std::thread;
use std::time::{Duration, Instant};

const LEN: u64 = 1_000;

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Entry {
    value: u64,
    #[field]
    links: ListLinks,
    #[field]
    head: RcuHead,
}

impl Entry {
    fn new(value: u64) -> Entry {
        Entry {
            value,
            links: ListLinks::new(),
            head: RcuHead::new(),
        }
    }
}

/// A container that readers walk and a writer churns.
trait Walked: Send + Sync + 'static {
    fn build() -> Self;
    /// Sums every value in one read-side walk.
    fn walk(&self) -> u64;
    /// Inserts one entry at the back and removes the front one.
    fn churn(&self, value: u64);
}

impl Walked for RcuList<Entry> {
    fn build() -> Self {
        let list = RcuList::new();
        let mut writer = list.lock();
        for value in 0..LEN {
            writer.push_back(Box::new(Entry::new(value)));
        }
        drop(writer);
        list
    }

    fn walk(&self) -> u64 {
        let guard = rcu::read_lock();
        self.iter(&guard).map(|entry| entry.value).sum()
    }

    fn churn(&self, value: u64) {
        let mut writer = self.lock();
        writer.push_back(Box::new(Entry::new(value)));
        let unlinked = writer.pop_front().expect("the list is never empty");
        drop(writer);
        unlinked.kfree_rcu();
    }
}

impl Walked for RwLock<Vec<Arc<Entry>>> {
    fn build() -> Self {
        RwLock::new((0..LEN).map(|value| Arc::new(Entry::new(value))).collect())
    }

    fn walk(&self) -> u64 {
        let entries = self.read().unwrap();
        entries.iter().map(|entry| entry.value).sum()
    }

    fn churn(&self, value: u64) {
        let mut entries = self.write().unwrap();
        entries.push(Arc::new(Entry::new(value)));
        // Shifts 1,000 pointers, the cost of keeping a Vec in list order.
        drop(entries.remove(0));
    }
}

impl Walked for RwLock<LinkedList<Entry>> {
    fn build() -> Self {
        RwLock::new((0..LEN).map(Entry::new).collect())
    }

    fn walk(&self) -> u64 {
        let entries = self.read().unwrap();
        entries.iter().map(|entry| entry.value).sum()
    }

    fn churn(&self, value: u64) {
        let mut entries = self.write().unwrap();
        entries.push_back(Entry::new(value));
        black_box(entries.pop_front());
    }
}

/// Times `iters` walks on this thread while `extra_readers` threads walk and, if
/// `writer`, one writer churns.
fn timed_walks<C: Walked>(
    shared: &Arc<C>,
    extra_readers: usize,
    writer: bool,
    iters: u64,
) -> Duration {
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(Barrier::new(extra_readers + 1 + usize::from(writer)));
    let mut helpers = Vec::new();
    for _ in 0..extra_readers {
        let (shared, stop, ready) = (Arc::clone(shared), Arc::clone(&stop), Arc::clone(&ready));
        helpers.push(thread::spawn(move || {
            ready.wait();
            while !stop.load(Ordering::Relaxed) {
                black_box(shared.walk());
            }
        }));
    }
    if writer {
        let (shared, stop, ready) = (Arc::clone(shared), Arc::clone(&stop), Arc::clone(&ready));
        helpers.push(thread::spawn(move || {
            ready.wait();
            let mut value = LEN;
            while !stop.load(Ordering::Relaxed) {
                shared.churn(value);
                value += 1;
            }
        }));
    }

    ready.wait();
    let started = Instant::now();
    for _ in 0..iters {
        black_box(shared.walk());
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for helper in helpers {
        helper.join().unwrap();
    }
    elapsed
}

fn bench_container<C: Walked>(c: &mut Criterion, name: &str) {
    let shared = Arc::new(C::build());
    let mut group = c.benchmark_group("list_iter");
    // The baseline: one reader and no writer.
    group.bench_function(format!("{name}/1_reader_no_writer"), |b| {
        b.iter_custom(|iters| timed_walks(&shared, 0, false, iters));
    });
    for readers in [1, 2] {
        group.bench_function(format!("{name}/{readers}_readers_1_writer"), |b| {
            b.iter_custom(|iters| timed_walks(&shared, readers - 1, true, iters));
        });
    }
    group.finish();
}

fn list_iter(c: &mut Criterion) {
    bench_container::<RcuList<Entry>>(c, "rcu_list");
    bench_container::<RwLock<Vec<Arc<Entry>>>>(c, "rwlock_vec_arc");
    bench_container::<RwLock<LinkedList<Entry>>>(c, "rwlock_linked_list");
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = list_iter
}
criterion_main!(benches);
