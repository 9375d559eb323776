//! Read-mostly workloads over RCU pointers and the common alternatives.
//!
//! Each benchmark runs its body on 1 or 2 threads at once and reports the wall time per
//! operation of one thread, so a perfectly scalable read costs the same with 2 threads.
//!
//! - `read/<threads>`: reads only. `rcu_guard_held` dereferences under a guard held for the
//!   whole batch; the `*_section` variants enter and leave a read-side critical section
//!   (or crossbeam pin) for each read.
//! - `read_mostly_99_1/<threads>`: every 100th operation of each thread publishes a new
//!   value, the rest are reads in a section of their own.
//! - `reader_with_writer`: one reader thread measured, with or without a second thread
//!   that replaces the value as fast as it can.
//!
//! Run with `cargo bench -p rcu --bench read_mostly`.

use arc_swap::ArcSwap;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use crossbeam_epoch::{self as epoch, Atomic, Owned};
use rcu::{DeferredRcu, Rcu, RcuBox};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, RwLock};
use std::thread;
use std::time::{Duration, Instant};

/// The shared value: two words, both read.
#[derive(Clone, Copy)]
struct Data {
    a: u64,
    b: u64,
}

impl Data {
    fn new(seed: u64) -> Data {
        Data { a: seed, b: !seed }
    }

    fn sum(&self) -> u64 {
        self.a.wrapping_add(self.b)
    }
}

/// A shared value that the benchmark threads read and replace.
trait Workload: Sync {
    fn read(&self) -> u64;
    fn update(&self, seed: u64);
}

struct RcuBoxed(Rcu<Box<Data>>);
struct RcuDeferred(DeferredRcu<Data>);
struct ArcSwapped(ArcSwap<Data>);
struct Locked(RwLock<Arc<Data>>);
struct Epoch(Atomic<Data>);

impl Workload for RcuBoxed {
    fn read(&self) -> u64 {
        let guard = rcu::read_lock();
        self.0.dereference(&guard).map_or(0, Data::sum)
    }

    fn update(&self, seed: u64) {
        // Dropping the old value waits for a grace period.
        drop(self.0.swap(Box::new(Data::new(seed))));
    }
}

impl Workload for RcuDeferred {
    fn read(&self) -> u64 {
        let guard = rcu::read_lock();
        self.0.dereference(&guard).map_or(0, Data::sum)
    }

    fn update(&self, seed: u64) {
        // Dropping the old value queues it for the callback thread.
        drop(self.0.swap(RcuBox::new(Data::new(seed))));
    }
}

impl Workload for ArcSwapped {
    fn read(&self) -> u64 {
        self.0.load().sum()
    }

    fn update(&self, seed: u64) {
        self.0.store(Arc::new(Data::new(seed)));
    }
}

impl Workload for Locked {
    fn read(&self) -> u64 {
        self.0.read().expect("lock poisoned").sum()
    }

    fn update(&self, seed: u64) {
        let value = Arc::new(Data::new(seed));
        *self.0.write().expect("lock poisoned") = value;
    }
}

impl Workload for Epoch {
    fn read(&self) -> u64 {
        let guard = epoch::pin();
        let shared = self.0.load(Ordering::Acquire, &guard);
        // SAFETY: the pointer is never null and is destroyed only through
        // `defer_destroy`, after every pinned reader has moved on.
        unsafe { shared.deref() }.sum()
    }

    fn update(&self, seed: u64) {
        let guard = epoch::pin();
        let old = self
            .0
            .swap(Owned::new(Data::new(seed)), Ordering::AcqRel, &guard);
        // SAFETY: `old` is unpublished by the swap, and destroyed after the readers
        // pinned now have unpinned.
        unsafe { guard.defer_destroy(old) };
    }
}

impl Drop for Epoch {
    fn drop(&mut self) {
        // SAFETY: every benchmark thread has finished, so no reader is left.
        unsafe {
            let guard = epoch::unprotected();
            drop(self.0.load(Ordering::Relaxed, guard).into_owned());
        }
    }
}

fn contestants() -> Vec<(&'static str, Box<dyn Workload>)> {
    vec![
        (
            "rcu_box",
            Box::new(RcuBoxed(Rcu::new(Box::new(Data::new(1))))),
        ),
        (
            "rcu_deferred",
            Box::new(RcuDeferred(DeferredRcu::from(RcuBox::new(Data::new(1))))),
        ),
        (
            "arc_swap",
            Box::new(ArcSwapped(ArcSwap::from_pointee(Data::new(1)))),
        ),
        (
            "rwlock_arc",
            Box::new(Locked(RwLock::new(Arc::new(Data::new(1))))),
        ),
        (
            "crossbeam_epoch",
            Box::new(Epoch(Atomic::new(Data::new(1)))),
        ),
    ]
}

/// Runs `body(iters)` on `threads` threads at once and returns the wall time from the
/// common start to the last finish.
fn run_threads<F>(threads: usize, iters: u64, body: F) -> Duration
where
    F: Fn(u64) + Sync,
{
    let start = Barrier::new(threads + 1);
    thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    // Register with RCU before the clock starts.
                    drop(rcu::read_lock());
                    start.wait();
                    body(iters);
                })
            })
            .collect();
        start.wait();
        let began = Instant::now();
        for worker in workers {
            worker.join().expect("benchmark thread panicked");
        }
        began.elapsed()
    })
}

fn bench_read(c: &mut Criterion) {
    for threads in [1, 2] {
        let mut group = c.benchmark_group(format!("read/{threads}"));

        let ptr = Rcu::new(Box::new(Data::new(1)));
        group.bench_function("rcu_guard_held", |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, |iters| {
                    let guard = rcu::read_lock();
                    let mut sum = 0_u64;
                    for _ in 0..iters {
                        sum = sum.wrapping_add(ptr.dereference(&guard).map_or(0, Data::sum));
                    }
                    black_box(sum);
                })
            })
        });

        let pinned = Epoch(Atomic::new(Data::new(1)));
        group.bench_function("crossbeam_epoch_pin_held", |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, |iters| {
                    let guard = epoch::pin();
                    let mut sum = 0_u64;
                    for _ in 0..iters {
                        let shared = pinned.0.load(Ordering::Acquire, &guard);
                        // SAFETY: never null, never destroyed while pinned.
                        sum = sum.wrapping_add(unsafe { shared.deref() }.sum());
                    }
                    black_box(sum);
                })
            })
        });

        for (name, workload) in contestants() {
            let workload = &*workload;
            group.bench_function(BenchmarkId::new(name, "section"), |b| {
                b.iter_custom(|iters| {
                    run_threads(threads, iters, |iters| {
                        let mut sum = 0_u64;
                        for _ in 0..iters {
                            sum = sum.wrapping_add(workload.read());
                        }
                        black_box(sum);
                    })
                })
            });
        }
        group.finish();
    }
}

fn bench_read_mostly(c: &mut Criterion) {
    for threads in [1, 2] {
        let mut group = c.benchmark_group(format!("read_mostly_99_1/{threads}"));
        for (name, workload) in contestants() {
            let workload = &*workload;
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    run_threads(threads, iters, |iters| {
                        let mut sum = 0_u64;
                        for i in 0..iters {
                            if i % 100 == 99 {
                                workload.update(i);
                            } else {
                                sum = sum.wrapping_add(workload.read());
                            }
                        }
                        black_box(sum);
                    })
                })
            });
        }
        group.finish();
    }
}

/// Measures one reader while another thread replaces the value without pause.
fn bench_reader_with_writer(c: &mut Criterion) {
    let mut group = c.benchmark_group("reader_with_writer");
    let measured: [(&str, Box<dyn Workload>); 2] = [
        (
            "rcu_deferred",
            Box::new(RcuDeferred(DeferredRcu::from(RcuBox::new(Data::new(1))))),
        ),
        (
            "arc_swap",
            Box::new(ArcSwapped(ArcSwap::from_pointee(Data::new(1)))),
        ),
    ];
    for (name, workload) in measured {
        let workload = &*workload;
        for writer in [false, true] {
            let id = BenchmarkId::new(name, if writer { "writer" } else { "no_writer" });
            group.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    let stop = AtomicBool::new(false);
                    let running = Barrier::new(2);
                    thread::scope(|scope| {
                        if writer {
                            scope.spawn(|| {
                                running.wait();
                                let mut seed = 0;
                                while !stop.load(Ordering::Relaxed) {
                                    seed += 1;
                                    workload.update(seed);
                                }
                            });
                        } else {
                            scope.spawn(|| running.wait());
                        }
                        running.wait();
                        let began = Instant::now();
                        let mut sum = 0_u64;
                        for _ in 0..iters {
                            sum = sum.wrapping_add(workload.read());
                        }
                        let elapsed = began.elapsed();
                        black_box(sum);
                        stop.store(true, Ordering::Relaxed);
                        elapsed
                    })
                })
            });
        }
    }
    group.finish();
    rcu::rcu_barrier();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_read, bench_read_mostly, bench_reader_with_writer
}
criterion_main!(benches);
