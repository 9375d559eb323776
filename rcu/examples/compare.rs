//! Compares read-mostly throughput of this crate's RCU pointers with other
//! shared-pointer schemes, in one process, one after the other.
//!
//! Every worker thread runs a mix of operations on one shared payload: a read with
//! probability `--read-share`, otherwise an update that publishes a new payload and
//! retires the old one. The example prints a table of reads and updates per second for
//! each thread count and read share, and writes an SVG chart of read throughput.
//!
//! ```text
//! cargo run --release --example compare -- --threads 1,2,4 --read-share 0.9,0.99,1
//! cargo run --release --example compare --features liburcu   # adds liburcu memb and qsbr
//! ```

#[path = "shared/args.rs"]
mod args;
#[path = "compare/backends.rs"]
mod backends;
#[path = "compare/chart.rs"]
mod chart;
#[path = "compare/liburcu.rs"]
mod liburcu;

use args::OptionArgs;
use backends::{Backend, Contender};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const USAGE: &str = "\
Usage: compare [OPTIONS]

Measures reads and updates per second of a read-mostly workload on this crate's Rcu<Box<T>>
and DeferredRcu<T>, arc-swap, crossbeam-epoch, std and parking_lot RwLock (and liburcu's
memb and qsbr flavours when built with --features liburcu).

Options:
  --threads LIST       comma-separated worker thread counts [default: 1,2,4]
  --read-share LIST    comma-separated shares of reads among operations, each from 0 to 1
                       [default: 0.9,0.99,1]
  --duration SECONDS   measuring time per contender and configuration [default: 0.5]
  --svg PATH           where to write the chart [default: docs/compare.svg in the workspace]
  --no-svg             do not write the chart
  -h, --help           print this help
";

struct Options {
    threads: Vec<usize>,
    shares: Vec<f64>,
    duration: Duration,
    svg: Option<PathBuf>,
}

/// One contender's result in one configuration.
struct Measurement {
    name: &'static str,
    threads: usize,
    share: f64,
    reads: u64,
    updates: u64,
    seconds: f64,
}

impl Measurement {
    fn reads_per_second(&self) -> f64 {
        self.reads as f64 / self.seconds
    }

    fn updates_per_second(&self) -> f64 {
        self.updates as f64 / self.seconds
    }
}

fn main() -> ExitCode {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("compare: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    let contenders = backends::contenders();
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "compare: {} CPUs, rcu barrier {:?}, {:.2} s per measurement",
        cpus,
        rcu::barrier_kind(),
        options.duration.as_secs_f64()
    );

    let mut results = Vec::new();
    for &share in &options.shares {
        for &threads in &options.threads {
            let first = results.len();
            for contender in &contenders {
                results.push(measure(contender, threads, share, options.duration));
            }
            print_table(&results[first..], threads, share);
        }
    }

    if let Some(path) = &options.svg {
        let names: Vec<&str> = contenders.iter().map(|contender| contender.name).collect();
        let caption = format!(
            "Read throughput, read-mostly workload ({cpus} CPUs, {:.2} s per point)",
            options.duration.as_secs_f64()
        );
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Err(error) = chart::write_svg(
            path,
            &names,
            &options.shares,
            &options.threads,
            &results,
            &caption,
        ) {
            eprintln!(
                "compare: failed to write the chart to {}: {error}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
        println!("chart written to {}", path.display());
    }
    ExitCode::SUCCESS
}

/// Runs `threads` workers on a fresh instance of `contender` for `duration`.
fn measure(contender: &Contender, threads: usize, share: f64, duration: Duration) -> Measurement {
    let backend = (contender.make)();
    let stop = AtomicBool::new(false);
    let start = Barrier::new(threads + 1);
    // A read when the next random value is below this threshold.
    let threshold = (share.clamp(0.0, 1.0) * u64::MAX as f64) as u64;
    let always_read = share >= 1.0;

    let (counts, seconds) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                let (backend, stop, start) = (&*backend, &stop, &start);
                scope.spawn(move || {
                    run_worker(backend, index as u64, threshold, always_read, stop, start)
                })
            })
            .collect();
        start.wait();
        let started = Instant::now();
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        let counts: Vec<(u64, u64)> = workers
            .into_iter()
            .map(|worker| worker.join().expect("a worker thread panicked"))
            .collect();
        (counts, started.elapsed().as_secs_f64())
    });
    drop(backend);
    // Callbacks of the deferred forms would otherwise run during the next measurement.
    rcu::rcu_barrier();

    Measurement {
        name: contender.name,
        threads,
        share,
        reads: counts.iter().map(|&(reads, _)| reads).sum(),
        updates: counts.iter().map(|&(_, updates)| updates).sum(),
        seconds,
    }
}

/// Runs operations until `stop` is set; returns (reads, updates).
fn run_worker(
    backend: &dyn Backend,
    seed: u64,
    threshold: u64,
    always_read: bool,
    stop: &AtomicBool,
    start: &Barrier,
) -> (u64, u64) {
    backend.thread_start();
    start.wait();
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let (mut reads, mut updates) = (0_u64, 0_u64);
    let mut checksum = 0_u64;
    'run: loop {
        for _ in 0..64 {
            // xorshift64: cheap enough not to dominate a read.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if always_read || state < threshold {
                checksum = checksum.wrapping_add(backend.read());
                reads += 1;
            } else {
                updates += 1;
                backend.update(updates);
            }
        }
        if stop.load(Ordering::Relaxed) {
            break 'run;
        }
    }
    std::hint::black_box(checksum);
    backend.thread_stop();
    (reads, updates)
}

fn print_table(results: &[Measurement], threads: usize, share: f64) {
    let baseline = results
        .first()
        .map_or(1.0, Measurement::reads_per_second)
        .max(1e-9);
    println!(
        "\n{threads} threads, read share {}%\n\
         | implementation | reads/s | updates/s | reads vs `{}` |\n\
         |---|---:|---:|---:|",
        share * 100.0,
        results.first().map_or("-", |m| m.name),
    );
    for m in results {
        println!(
            "| `{}` | {:.2} M | {:.3} M | {:.2} |",
            m.name,
            m.reads_per_second() / 1e6,
            m.updates_per_second() / 1e6,
            m.reads_per_second() / baseline
        );
    }
}

fn parse_options(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        threads: vec![1, 2, 4],
        shares: vec![0.9, 0.99, 1.0],
        duration: Duration::from_millis(500),
        svg: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/compare.svg")),
    };
    let mut args = OptionArgs::new(args.into_iter());
    while let Some((name, inline_value)) = args.next_option() {
        let mut value = || args.value(&name, &inline_value);
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--no-svg" => options.svg = None,
            "--svg" => options.svg = Some(PathBuf::from(value()?)),
            "--threads" => {
                let text = value()?;
                options.threads = parse_list(&text, |item| {
                    item.parse::<usize>().ok().filter(|count| (1..=1024).contains(count))
                })
                .ok_or_else(|| {
                    format!("invalid --threads '{text}': expected integers from 1 to 1024, comma-separated")
                })?;
            }
            "--read-share" => {
                let text = value()?;
                options.shares = parse_list(&text, |item| {
                    item.parse::<f64>().ok().filter(|share| (0.0..=1.0).contains(share))
                })
                .ok_or_else(|| {
                    format!("invalid --read-share '{text}': expected numbers from 0 to 1, comma-separated")
                })?;
            }
            "--duration" => {
                let text = value()?;
                let seconds = text.strip_suffix('s').unwrap_or(&text);
                options.duration = match seconds.parse::<f64>() {
                    Ok(seconds) if seconds > 0.0 && seconds <= 3600.0 => {
                        Duration::from_secs_f64(seconds)
                    }
                    _ => {
                        return Err(format!(
                            "invalid --duration '{text}': expected seconds, more than 0 and at most 3600"
                        ));
                    }
                };
            }
            _ => return Err(format!("unknown option '{name}'")),
        }
    }
    Ok(Some(options))
}

/// Parses a non-empty comma-separated list; `None` if any item is invalid.
fn parse_list<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    let items: Option<Vec<T>> = text.split(',').map(|item| parse(item.trim())).collect();
    items.filter(|items| !items.is_empty())
}
