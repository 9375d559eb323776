//! Stress test of the grace-period engine on both barrier paths.
//!
//! Reader threads check a canary in objects that a writer replaces, waits for with
//! `synchronize_rcu`, and poisons. A reader that ever sees the poison saw an object
//! outlive its grace period. Each barrier path runs in a child process, because the
//! barrier is chosen once per process.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const GRACE_PERIODS: u64 = if cfg!(miri) { 20 } else { 10_000 };
const READERS: usize = 2;
const LIVE: u64 = 0x11fe_11fe;
const POISON: u64 = 0xdead_dead;
/// Fails the child instead of hanging CI if a grace period never ends.
const TIME_LIMIT: Duration = Duration::from_secs(240);

struct Object {
    canary: AtomicU64,
    generation: u64,
}

fn run_child(force_fence: bool) -> String {
    let output = Command::new(std::env::current_exe().expect("test binary path"))
        .args(["--ignored", "--exact", "stress_child", "--nocapture"])
        .env("RCU_STRESS_CHILD", "1")
        .env(rcu::FORCE_FENCE_ENV, if force_fence { "1" } else { "0" })
        .output()
        .expect("failed to run the stress child process");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stress child failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn canary_stress_on_fence_path() {
    let stdout = run_child(true);
    assert!(stdout.contains("barrier Fence"), "child output:\n{stdout}");
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn canary_stress_on_default_path() {
    let stdout = run_child(false);
    // Membarrier where the kernel offers it, the fence fallback elsewhere.
    assert!(stdout.contains("barrier "), "child output:\n{stdout}");
}

/// The body of the stress test, run in a child process by the tests above (directly
/// under Miri, which has one barrier path only).
#[test]
#[cfg_attr(not(miri), ignore = "run by canary_stress_on_* in a child process")]
fn stress_child() {
    println!("barrier {:?}", rcu::barrier_kind());
    let started = Instant::now();
    let shared = Arc::new(AtomicPtr::new(Box::into_raw(Box::new(Object {
        canary: AtomicU64::new(LIVE),
        generation: 0,
    }))));
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut reads = 0u64;
                let mut last_generation = 0;
                while !stop.load(Ordering::Relaxed) {
                    let guard = rcu::read_lock();
                    // Acquire pairs with the writer's Release swap.
                    let object = shared.load(Ordering::Acquire);
                    // SAFETY: reached inside the section; the writer poisons it only after
                    // a grace period and frees it only after the readers stop.
                    let object = unsafe { &*object };
                    for _ in 0..3 {
                        let canary = object.canary.load(Ordering::Relaxed);
                        assert_eq!(
                            canary, LIVE,
                            "reader saw generation {} poisoned inside its section",
                            object.generation
                        );
                    }
                    assert!(object.generation >= last_generation, "generation went back");
                    last_generation = object.generation;
                    drop(guard);
                    reads += 1;
                }
                reads
            })
        })
        .collect();

    let mut graveyard = Vec::new();
    for generation in 1..=GRACE_PERIODS {
        let fresh = Box::into_raw(Box::new(Object {
            canary: AtomicU64::new(LIVE),
            generation,
        }));
        // Release publishes the new object; Acquire takes ownership of the old one.
        let old = shared.swap(fresh, Ordering::AcqRel);
        rcu::synchronize_rcu();
        // SAFETY: unpublished before the grace period, so no reader holds it now.
        unsafe { (*old).canary.store(POISON, Ordering::Relaxed) };
        // Poisoned objects stay allocated until the readers stop, so that a broken grace
        // period shows as poison instead of as a read of freed memory.
        graveyard.push(old);
        assert!(
            started.elapsed() < TIME_LIMIT,
            "stress test exceeded {TIME_LIMIT:?}"
        );
    }

    stop.store(true, Ordering::Relaxed);
    let reads: u64 = readers
        .into_iter()
        .map(|reader| reader.join().unwrap())
        .sum();
    for object in graveyard {
        // SAFETY: the readers have exited.
        drop(unsafe { Box::from_raw(object) });
    }
    // SAFETY: the readers have exited.
    drop(unsafe { Box::from_raw(shared.load(Ordering::Acquire)) });
    println!(
        "{GRACE_PERIODS} grace periods, {reads} reads in {:?}",
        started.elapsed()
    );
}
