//! Read-side cost: enter a section, load a protected pointer, read through it, leave.
//!
//! Compared with the peers' read paths and with a bare thread-local increment as the
//! floor, with 1 thread and with 2 (the measured thread plus one running the same loop).
//! Run: `cargo bench -p rcu --bench read_side`; add `RCU_FORCE_FENCE=1` for the fence
//! fallback.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

type Value = u64;

/// Runs `op` `iters` times on this thread while `extra` other threads run it in a loop,
/// and returns this thread's time.
fn timed_with_peers<S, F>(shared: &Arc<S>, extra: usize, iters: u64, op: F) -> Duration
where
    S: Send + Sync + 'static,
    F: Fn(&S) + Send + Sync + Copy + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(Barrier::new(extra + 1));
    let peers: Vec<_> = (0..extra)
        .map(|_| {
            let (shared, stop, ready) = (Arc::clone(shared), Arc::clone(&stop), Arc::clone(&ready));
            thread::spawn(move || {
                ready.wait();
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..64 {
                        op(&shared);
                    }
                }
            })
        })
        .collect();
    ready.wait();
    let started = Instant::now();
    for _ in 0..iters {
        op(shared);
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for peer in peers {
        peer.join().unwrap();
    }
    elapsed
}

struct RcuPointer(AtomicPtr<Value>);

thread_local! {
    static COUNTER: Cell<u64> = const { Cell::new(0) };
}

fn read_side(c: &mut Criterion) {
    let barrier = format!("{:?}", rcu::barrier_kind());
    for threads in [1usize, 2] {
        let mut group = c.benchmark_group(format!("read_side/{threads}_threads"));
        group.measurement_time(Duration::from_secs(3));
        group.warm_up_time(Duration::from_millis(500));

        let floor = Arc::new(());
        group.bench_function("thread_local_increment", |b| {
            b.iter_custom(|iters| {
                timed_with_peers(&floor, threads - 1, iters, |_| {
                    COUNTER.with(|counter| counter.set(black_box(counter.get() + 1)));
                })
            })
        });

        let rcu_value = Arc::new(RcuPointer(AtomicPtr::new(Box::into_raw(Box::new(7)))));
        group.bench_function(format!("rcu_read_lock_{barrier}"), |b| {
            b.iter_custom(|iters| {
                timed_with_peers(&rcu_value, threads - 1, iters, |shared| {
                    let guard = rcu::read_lock();
                    // Acquire, as `Rcu::dereference` loads.
                    let value = shared.0.load(Ordering::Acquire);
                    // SAFETY: never freed while the benchmark runs.
                    black_box(unsafe { *value });
                    drop(guard);
                })
            })
        });

        let std_lock = Arc::new(std::sync::RwLock::new(7u64));
        group.bench_function("std_rwlock_read", |b| {
            b.iter_custom(|iters| {
                timed_with_peers(&std_lock, threads - 1, iters, |lock| {
                    black_box(*lock.read().unwrap());
                })
            })
        });

        let pl_lock = Arc::new(parking_lot::RwLock::new(7u64));
        group.bench_function("parking_lot_rwlock_read", |b| {
            b.iter_custom(|iters| {
                timed_with_peers(&pl_lock, threads - 1, iters, |lock| {
                    black_box(*lock.read());
                })
            })
        });

        let epoch_value = Arc::new(crossbeam_epoch::Atomic::new(7u64));
        group.bench_function("crossbeam_epoch_pin", |b| {
            b.iter_custom(|iters| {
                timed_with_peers(&epoch_value, threads - 1, iters, |atomic| {
                    let guard = crossbeam_epoch::pin();
                    let shared = atomic.load(Ordering::Acquire, &guard);
                    // SAFETY: never freed while the benchmark runs.
                    black_box(unsafe { *shared.deref() });
                })
            })
        });

        let swap_value = Arc::new(arc_swap::ArcSwap::from_pointee(7u64));
        group.bench_function("arc_swap_load", |b| {
            b.iter_custom(|iters| {
                timed_with_peers(&swap_value, threads - 1, iters, |swap| {
                    black_box(**swap.load());
                })
            })
        });

        group.finish();
    }
}

criterion_group!(benches, read_side);
criterion_main!(benches);
