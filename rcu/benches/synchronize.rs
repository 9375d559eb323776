//! Grace-period latency: `synchronize_rcu` with idle and busy registered readers, and
//! how many grace periods 8 concurrent callers use per round.
//!
//! Run: `cargo bench -p rcu --bench synchronize`, and again with `RCU_FORCE_FENCE=1` for
//! the fence fallback; the benchmark names carry the barrier in use.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// Reader threads that register and then idle outside any section, or loop over
/// sections, until dropped.
struct Readers {
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Readers {
    fn start(count: usize, busy: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let registered = Arc::new(Barrier::new(count + 1));
        let threads = (0..count)
            .map(|_| {
                let (stop, registered) = (Arc::clone(&stop), Arc::clone(&registered));
                thread::spawn(move || {
                    drop(rcu::read_lock());
                    registered.wait();
                    while !stop.load(Ordering::Relaxed) {
                        if busy {
                            let _guard = rcu::read_lock();
                            std::hint::spin_loop();
                        } else {
                            thread::sleep(Duration::from_millis(1));
                        }
                    }
                })
            })
            .collect();
        registered.wait();
        Readers { stop, threads }
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            thread.join().unwrap();
        }
    }
}

fn latency(c: &mut Criterion) {
    let barrier = format!("{:?}", rcu::barrier_kind());
    let mut group = c.benchmark_group(format!("synchronize_rcu/{barrier}"));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_millis(500));
    for (name, count, busy) in [
        ("0_readers", 0, false),
        ("1_idle_reader", 1, false),
        ("2_idle_readers", 2, false),
        ("1_busy_reader", 1, true),
    ] {
        let readers = Readers::start(count, busy);
        group.bench_function(name, |b| b.iter(rcu::synchronize_rcu));
        drop(readers);
    }
    group.finish();
}

/// Prints the grace periods 8 concurrent callers use per round, where a round is one
/// call from each. Not a timing, so it is printed rather than measured by criterion.
fn sharing(_: &mut Criterion) {
    const CALLERS: usize = 8;
    const ROUNDS: u64 = 2_000;
    let go = Arc::new(Barrier::new(CALLERS));
    let rounds_done = Arc::new(AtomicU64::new(0));
    let before = rcu::stats().grace_periods;
    let started = Instant::now();
    let threads: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (go, rounds_done) = (Arc::clone(&go), Arc::clone(&rounds_done));
            thread::spawn(move || {
                go.wait();
                for _ in 0..ROUNDS {
                    rcu::synchronize_rcu();
                }
                rounds_done.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let used = rcu::stats().grace_periods - before;
    println!(
        "sharing/{:?}: {CALLERS} callers x {ROUNDS} calls: {used} grace periods, \
         {:.2} per round of {CALLERS} calls, {:.3} per call, {:?} total",
        rcu::barrier_kind(),
        used as f64 / ROUNDS as f64,
        used as f64 / (ROUNDS * CALLERS as u64) as f64,
        started.elapsed()
    );
}

criterion_group!(benches, latency, sharing);
criterion_main!(benches);
