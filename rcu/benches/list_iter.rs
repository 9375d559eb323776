//! Walking a 1,000-entry list: `RcuList` under a guard against read-locked
//! `RwLock<Vec<Arc<T>>>` and `RwLock<LinkedList<T>>`.
//!
//! The measured thread sums every entry's value once per iteration. Alongside it run
//! zero or one extra reader threads doing the same walk, and one writer thread that
//! inserts an entry at the back and removes the front one, in a loop at full speed.
//! `RcuList` removals are reclaimed with `kfree_rcu`. Run: `cargo bench -p rcu --bench
//! list_iter`.
//!
//! An `RwLock` writer waits while readers hold the lock. The `RcuList` writer takes only
//! the list's writer lock, which readers never take, and waits only when `kfree_rcu` finds
//! more than the callback limit queued (then it waits for the callback thread, and so for
//! grace periods). Walk times alone therefore do not compare the containers, so the writer
//! counts its updates (one insert and one removal each) during the timed walks.
//! After each benchmark with a writer the count is printed, and at the end a Markdown
//! table gives each writer's updates per second and `RcuList`'s rate divided by each
//! other container's.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use rcu::{HasField, ListLinks, RcuHead, RcuList};
use std::collections::LinkedList;
use std::env;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// One call of `timed_walks`: how long the measured thread took for its walks, and how
/// many updates the writer completed meanwhile (0 without a writer).
struct TimedWindow {
    elapsed: Duration,
    writer_updates: u64,
}

/// Times `iters` walks on this thread while `extra_readers` threads walk and, if
/// `writer`, one writer churns.
fn timed_walks<C: Walked>(
    shared: &Arc<C>,
    extra_readers: usize,
    writer: bool,
    iters: u64,
) -> TimedWindow {
    let stop = Arc::new(AtomicBool::new(false));
    // The writer's count of `churn` calls that have returned. Only the writer stores it.
    let writer_updates = Arc::new(AtomicU64::new(0));
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
        let writer_updates = Arc::clone(&writer_updates);
        helpers.push(thread::spawn(move || {
            ready.wait();
            let mut value = LEN;
            let mut updates = 0;
            while !stop.load(Ordering::Relaxed) {
                shared.churn(value);
                value += 1;
                updates += 1;
                writer_updates.store(updates, Ordering::Relaxed);
            }
        }));
    }

    ready.wait();
    // The count is read just outside the timed walks, so it covers the timed window plus
    // two loads. Relaxed is enough because the count is only reported and no other data
    // is read through it. Coherence of the one atomic keeps the second load at or above
    // the first, but either load may return a count a few updates older than the
    // writer's latest store.
    let updates_before = writer_updates.load(Ordering::Relaxed);
    let started = Instant::now();
    for _ in 0..iters {
        black_box(shared.walk());
    }
    let elapsed = started.elapsed();
    let updates_after = writer_updates.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for helper in helpers {
        helper.join().unwrap();
    }
    TimedWindow {
        elapsed,
        writer_updates: updates_after - updates_before,
    }
}

/// Writer updates and walk time summed over every window that criterion timed for one
/// benchmark, warm-up calls included, because `iter_custom` cannot tell them apart.
#[derive(Clone, Copy, Default)]
struct WriterTally {
    updates: u64,
    timed: Duration,
}

impl WriterTally {
    fn add(&mut self, window: &TimedWindow) {
        self.updates += window.writer_updates;
        self.timed += window.elapsed;
    }

    /// Returns the writer's updates per second of timed walks, or `None` if criterion
    /// never ran this benchmark (a filter excluded it, or `--list`).
    fn per_second(&self) -> Option<f64> {
        if self.timed.is_zero() {
            return None;
        }
        Some(self.updates as f64 / self.timed.as_secs_f64())
    }
}

/// Reader counts of the configurations that run a writer.
const READERS_WITH_WRITER: [usize; 2] = [1, 2];

/// Runs the three configurations on one container and returns the writer tallies of
/// the two with a writer, in the order of `READERS_WITH_WRITER`.
fn bench_container<C: Walked>(c: &mut Criterion, name: &str) -> [WriterTally; 2] {
    let shared = Arc::new(C::build());
    let mut group = c.benchmark_group("list_iter");
    // The baseline: one reader and no writer.
    group.bench_function(format!("{name}/1_reader_no_writer"), |b| {
        b.iter_custom(|iters| timed_walks(&shared, 0, false, iters).elapsed);
    });

    let mut tallies = [WriterTally::default(); 2];
    for (readers, tally) in READERS_WITH_WRITER.into_iter().zip(&mut tallies) {
        let id = format!("{name}/{readers}_readers_1_writer");
        group.bench_function(&id, |b| {
            b.iter_custom(|iters| {
                let window = timed_walks(&shared, readers - 1, true, iters);
                tally.add(&window);
                window.elapsed
            });
        });
        if measuring() && !tally.timed.is_zero() {
            println!(
                "list_iter/{id}: writer completed {} updates in {:.3} s of timed walks",
                tally.updates,
                tally.timed.as_secs_f64()
            );
        }
    }
    group.finish();
    tallies
}

/// Returns whether criterion measures in this run rather than testing each benchmark
/// with a single walk. This copies criterion 0.5's rule, which is not public: test mode
/// unless `--bench` (passed by `cargo bench`) is given without `--test`.
fn measuring() -> bool {
    let args: Vec<String> = env::args().collect();
    let has = |flag: &str| args.iter().any(|arg| arg == flag);
    has("--bench") && !has("--test")
}

/// Formats a rate in updates per second, or `-` for a benchmark that did not run.
fn format_rate(rate: Option<f64>) -> String {
    match rate {
        Some(rate) => format!("{rate:.0}"),
        None => "-".to_string(),
    }
}

/// Formats `RcuList`'s rate divided by another container's, or `-` when either did not
/// run or the other writer completed no update.
fn format_ratio(rcu_list: Option<f64>, other: Option<f64>) -> String {
    match (rcu_list, other) {
        (Some(rcu_list), Some(other)) if other > 0.0 => format!("{:.2}", rcu_list / other),
        _ => "-".to_string(),
    }
}

/// Prints the writers' updates per second for each configuration with a writer, and
/// the ratio of `RcuList`'s rate to each `RwLock` container's.
fn print_writer_table(
    rcu_list: &[WriterTally; 2],
    vec: &[WriterTally; 2],
    linked: &[WriterTally; 2],
) {
    let mut all = rcu_list.iter().chain(vec).chain(linked);
    if !measuring() || all.all(|tally| tally.timed.is_zero()) {
        return;
    }
    println!();
    println!(
        "Writer updates per second of timed walks (one update = one insert at the back \
         and one removal from the front; summed over every timed window, warm-up included):"
    );
    println!();
    println!(
        "| case | `RcuList` | `RwLock<Vec<Arc>>` | `RwLock<LinkedList>` \
         | `RcuList` / `Vec` | `RcuList` / `LinkedList` |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (index, readers) in READERS_WITH_WRITER.into_iter().enumerate() {
        let rates = [rcu_list[index], vec[index], linked[index]].map(|tally| tally.per_second());
        println!(
            "| {readers} reader{}, 1 writer | {} | {} | {} | {} | {} |",
            if readers == 1 { "" } else { "s" },
            format_rate(rates[0]),
            format_rate(rates[1]),
            format_rate(rates[2]),
            format_ratio(rates[0], rates[1]),
            format_ratio(rates[0], rates[2]),
        );
    }
    println!();
}

fn list_iter(c: &mut Criterion) {
    let rcu_list = bench_container::<RcuList<Entry>>(c, "rcu_list");
    let vec = bench_container::<RwLock<Vec<Arc<Entry>>>>(c, "rwlock_vec_arc");
    let linked = bench_container::<RwLock<LinkedList<Entry>>>(c, "rwlock_linked_list");
    print_writer_table(&rcu_list, &vec, &linked);
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
