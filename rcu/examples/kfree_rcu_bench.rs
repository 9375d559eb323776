//! Throughput and peak memory of `kfree_rcu` against crossbeam-epoch's `defer_destroy`
//! and seize's `retire`.
//!
//! Each measurement runs in its own process, because peak RSS (`VmHWM`) is per process.
//! Without arguments the program runs every combination of scheme and producer count by
//! re-running itself, and prints a Markdown table:
//!
//! ```text
//! cargo run --release -p rcu --example kfree_rcu_bench
//! cargo run --release -p rcu --example kfree_rcu_bench -- rcu 1 2.0   # one measurement
//! ```
//!
//! In each measurement, `producers` threads retire 24-byte objects (a `u64` and an
//! `RcuHead`, the same struct for every scheme) as fast as they can for the given number
//! of seconds, while one more thread enters and leaves read-side critical sections in a
//! loop. Peak RSS growth is `VmHWM` at the end minus `VmRSS` just before the producers
//! start.

use crossbeam_epoch as epoch;
use rcu::{HasField, RcuHead};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Node {
    /// Payload that gives every scheme's object the same 24-byte size; never read.
    #[allow(dead_code)]
    value: u64,
    #[field]
    head: RcuHead,
}

fn node(value: u64) -> Node {
    Node {
        value,
        head: RcuHead::new(),
    }
}

const SCHEMES: [&str; 3] = ["rcu", "crossbeam", "seize"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => run_all(),
        [scheme, producers, seconds] => {
            let producers: usize = producers
                .parse()
                .expect("invalid producer count: expected a positive integer");
            let seconds: f64 = seconds
                .parse()
                .expect("invalid duration: expected seconds, such as 2.0");
            measure(scheme, producers, Duration::from_secs_f64(seconds));
        }
        _ => panic!("usage: kfree_rcu_bench [SCHEME PRODUCERS SECONDS], SCHEME one of {SCHEMES:?}"),
    }
}

/// Runs every scheme with 1 and 2 producers, each in a child process, and prints a table.
fn run_all() {
    let exe = std::env::current_exe().expect("cannot find this program's path");
    println!("| scheme | producers | objects/s (M) | peak RSS growth (KiB) |");
    println!("|---|---|---|---|");
    for producers in [1, 2] {
        for scheme in SCHEMES {
            let output = Command::new(&exe)
                .args([scheme, &producers.to_string(), "2.0"])
                .output()
                .expect("failed to run a measurement process");
            assert!(
                output.status.success(),
                "measurement {scheme} with {producers} producers failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let line = String::from_utf8_lossy(&output.stdout);
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [rate, growth] = fields[..] else {
                panic!("unexpected measurement output: {line:?}");
            };
            let rate: f64 = rate.parse().expect("invalid rate in measurement output");
            println!(
                "| {scheme} | {producers} | {:.2} | {growth} |",
                rate / 1e6
            );
        }
    }
}

/// Prints `objects_per_second peak_rss_growth_kib` for one scheme.
fn measure(scheme: &str, producers: usize, duration: Duration) {
    let collector = Arc::new(seize::Collector::new());
    let stop = Arc::new(AtomicBool::new(false));

    let reader = {
        let stop = Arc::clone(&stop);
        let collector = Arc::clone(&collector);
        let scheme = scheme.to_owned();
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match scheme.as_str() {
                    "rcu" => drop(rcu::read_lock()),
                    "crossbeam" => drop(epoch::pin()),
                    _ => drop(collector.enter()),
                }
            }
        })
    };

    // Start the callback thread and register the reader before the baseline is taken.
    rcu::kfree_rcu(Box::new(node(0)));
    rcu::rcu_barrier();
    thread::sleep(Duration::from_millis(50));
    let baseline = status_kib("VmRSS:");

    let started = Instant::now();
    let workers: Vec<_> = (0..producers)
        .map(|_| {
            let collector = Arc::clone(&collector);
            let scheme = scheme.to_owned();
            thread::spawn(move || retire_until(&scheme, &collector, started + duration))
        })
        .collect();
    let retired: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let elapsed = started.elapsed();
    let peak = status_kib("VmHWM:");

    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    rcu::rcu_barrier();

    let rate = retired as f64 / elapsed.as_secs_f64();
    println!("{rate:.0} {}", peak.saturating_sub(baseline));
}

/// Retires objects with `scheme` until `deadline`; returns how many.
fn retire_until(scheme: &str, collector: &seize::Collector, deadline: Instant) -> u64 {
    let mut retired = 0u64;
    loop {
        for _ in 0..1024 {
            let object = Box::new(node(retired));
            match scheme {
                "rcu" => rcu::kfree_rcu(object),
                "crossbeam" => {
                    let guard = epoch::pin();
                    let shared = epoch::Owned::<Node>::from(object).into_shared(&guard);
                    // SAFETY: the object was never shared, so no other thread can reach
                    // it; it is destroyed once, after the epoch advances.
                    unsafe { guard.defer_destroy(shared) };
                }
                "seize" => {
                    // SAFETY: the pointer comes from `Box::into_raw`, nothing else can
                    // reach it, and it is retired once.
                    unsafe { collector.retire(Box::into_raw(object), seize::reclaim::boxed) };
                }
                other => panic!("unknown scheme {other:?}: expected one of {SCHEMES:?}"),
            }
            retired += 1;
        }
        if Instant::now() >= deadline {
            return retired;
        }
    }
}

/// Returns a `kB` field of `/proc/self/status`, such as `VmRSS:`.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("cannot read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or_else(|| panic!("{field} missing from /proc/self/status"))
}
