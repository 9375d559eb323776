//! An rcutorture-style stress test of the rcu crate.
//!
//! Readers enter read-side critical sections at full speed and check the objects they find
//! through a raw published index, two `Rcu<ArenaPtr>` pointers (the `Wait` and the `Defer`
//! policy), a `DeferredRcu<Handle>` whose `RcuBox` payload carries an object's index, and
//! an `RcuList`. Writers replace those objects and retire the old ones through
//! `synchronize_rcu`, `cond_synchronize_rcu`, polled grace periods, `call_rcu` and
//! `kfree_rcu`. They also call every `Rcu` update: `swap`, `compare_exchange`, `update`,
//! `take`, and `replace` and `copy_update` through `Pin<&mut Rcu>`. Old values come back
//! through every `RcuOld` reclaim (`synchronize`, drop, `defer_drop`), and list entries
//! are inserted and removed. Meanwhile faults
//! are injected: readers that yield or sleep inside sections, reader threads that exit and
//! are replaced, callbacks that panic, and `rcu_barrier` calls. The run reports PASSED or
//! FAILED and exits 0 only when it passed.
//!
//! Every object lives in an arena that is never freed, so a broken build reports FAILED
//! instead of reading freed memory. The `RcuBox` handles are the exception: the crate
//! frees them to the allocator, and the handle's drop, run by the crate's callback,
//! advances its object. Each handle has its own canary, so a box freed under a reader is
//! reported, although in a broken build that reader reads freed memory.
//!
//! ```text
//! cargo run --release --example torture -- --duration 20 --barrier fence
//! ```

#[path = "shared/args.rs"]
mod args;
#[path = "torture/list.rs"]
mod list;
#[path = "torture/objects.rs"]
mod objects;
#[path = "torture/options.rs"]
mod options;
#[path = "torture/pointers.rs"]
mod pointers;
#[path = "torture/rcu_box.rs"]
mod rcu_box;
#[path = "torture/reader.rs"]
mod reader;
#[path = "torture/report.rs"]
mod report;
#[path = "torture/writer.rs"]
mod writer;

use objects::{CALLBACKS_QUEUED, CALLBACKS_STARTED, INTENTIONAL_PANIC, PANICS_QUEUED, Path};
use options::{BarrierChoice, Options, Rng};
use reader::{SeatTotals, Source};
use report::{Failure, Summary, record_failure};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use writer::WriterTotals;

/// Objects in the arena. An object stays in flight for about ten grace periods, far fewer
/// than this at the measured update rates; when the arena runs out, the writer waits for a
/// grace period and the run counts a `pool empty` wait.
const POOL_SIZE: usize = 16 * 1024;
/// How long the run may take to stop and drain after its duration before it is declared
/// stuck.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(60);
/// How often the barrier thread checks `rcu_barrier`.
const BARRIER_INTERVAL: Duration = Duration::from_millis(50);

fn main() -> ExitCode {
    let options = match options::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{}", options::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("torture: {message}\n\n{}", options::USAGE);
            return ExitCode::from(2);
        }
    };

    choose_barrier(options.barrier);
    let kind = rcu::barrier_kind();
    if options.barrier == BarrierChoice::Membarrier && kind != rcu::BarrierKind::Membarrier {
        eprintln!(
            "torture: --barrier membarrier requested, but the crate chose {kind:?}: this \
             kernel lacks MEMBARRIER_CMD_PRIVATE_EXPEDITED or {} is set to 1",
            rcu::FORCE_FENCE_ENV
        );
        return ExitCode::from(2);
    }

    install_quiet_panics();
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }

    // Spelled as `--barrier` takes it.
    let barrier = match kind {
        rcu::BarrierKind::Membarrier => "membarrier",
        rcu::BarrierKind::Fence => "fence",
    };
    let summary = run(&options, barrier.to_owned());
    if options.json {
        println!("{}", summary.to_json());
    } else {
        print!("{}", summary.to_text());
    }
    if summary.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Sets or clears `RCU_FORCE_FENCE` before the crate reads it on first use.
fn choose_barrier(choice: BarrierChoice) {
    // SAFETY: called at the start of `main`, before this program spawns any thread and
    // before the crate starts its own, so nothing reads the environment concurrently.
    unsafe {
        match choice {
            BarrierChoice::Auto => {}
            BarrierChoice::Membarrier => std::env::remove_var(rcu::FORCE_FENCE_ENV),
            BarrierChoice::Fence => std::env::set_var(rcu::FORCE_FENCE_ENV, "1"),
        }
    }
}

fn run(options: &Options, barrier: String) -> Summary {
    let mut rng = Rng::new(options.seed);
    objects::init_pool(POOL_SIZE);
    pointers::init_pointers();
    rcu_box::init_box_rcu();
    list::init_list(options.readers);
    let before = rcu::stats();

    let stop = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    start_watchdog(options.duration + SHUTDOWN_LIMIT, Arc::clone(&finished));

    let seats: Vec<Arc<SeatTotals>> = (0..options.readers)
        .map(|_| Arc::new(SeatTotals::default()))
        .collect();
    let seat_threads: Vec<_> = seats
        .iter()
        .enumerate()
        .map(|(seat, totals)| {
            let (stop, totals, seed) = (Arc::clone(&stop), Arc::clone(totals), rng.next_u64());
            thread::Builder::new()
                .name(format!("torture-seat-{seat}"))
                .spawn(move || reader::run_seat(seat, seed, stop, totals))
                .expect("failed to spawn a reader seat thread")
        })
        .collect();

    let writer_totals = Arc::new(WriterTotals::default());
    let writer_threads: Vec<_> = (0..options.writers)
        .map(|index| {
            let (stop, totals, seed) = (
                Arc::clone(&stop),
                Arc::clone(&writer_totals),
                rng.next_u64(),
            );
            thread::Builder::new()
                .name(format!("torture-writer-{index}"))
                .spawn(move || writer::run_writer(seed, &stop, &totals))
                .expect("failed to spawn a writer thread")
        })
        .collect();

    let barrier_calls = Arc::new(AtomicU64::new(0));
    let barrier_thread = {
        let (stop, calls) = (Arc::clone(&stop), Arc::clone(&barrier_calls));
        thread::Builder::new()
            .name("torture-barrier".into())
            .spawn(move || run_barrier_checks(&stop, &calls))
            .expect("failed to spawn the barrier thread")
    };

    let started = Instant::now();
    print_status_until(started + options.duration, &seats);
    stop.store(true, Ordering::Relaxed);

    for thread in seat_threads {
        if thread.join().is_err() {
            record_failure(
                Failure::ThreadPanicked,
                "a reader seat thread panicked".into(),
            );
        }
    }
    for thread in writer_threads {
        if thread.join().is_err() {
            record_failure(Failure::ThreadPanicked, "a writer thread panicked".into());
        }
    }
    if barrier_thread.join().is_err() {
        record_failure(
            Failure::ThreadPanicked,
            "the barrier thread panicked".into(),
        );
    }
    let seconds = started.elapsed().as_secs_f64();

    retire_published();
    drain_callbacks();
    check_accounting(&before);
    finished.store(true, Ordering::Relaxed);

    let after = rcu::stats();
    let sum = |field: fn(&SeatTotals) -> &AtomicU64| -> u64 {
        seats
            .iter()
            .map(|seat| field(seat).load(Ordering::Relaxed))
            .sum()
    };
    let mut pipe = [0; reader::PIPE_BUCKETS];
    let mut batch = [0; reader::BATCH_BUCKETS];
    for seat in &seats {
        for (total, count) in pipe.iter_mut().zip(&seat.pipe) {
            *total += count.load(Ordering::Relaxed);
        }
        for (total, count) in batch.iter_mut().zip(&seat.batch) {
            *total += count.load(Ordering::Relaxed);
        }
    }
    let writers = &writer_totals;
    let summary = Summary {
        seed: options.seed,
        readers: options.readers,
        writers: options.writers,
        barrier,
        seconds,
        reads: sum(|seat| &seat.reads),
        updates: writers.updates.load(Ordering::Relaxed),
        grace_periods: after.grace_periods - before.grace_periods,
        synchronize_calls: writers.synchronize.load(Ordering::Relaxed),
        cond_synchronize_calls: writers.cond_synchronize.load(Ordering::Relaxed),
        polls_completed: writers.polls_completed.load(Ordering::Relaxed),
        pool_empty_waits: writers.pool_empty.load(Ordering::Relaxed),
        callbacks_invoked: after.callbacks_invoked - before.callbacks_invoked,
        callbacks_panicked: after.callbacks_panicked - before.callbacks_panicked,
        intentional_panics: PANICS_QUEUED.load(Ordering::Relaxed),
        largest_callback_batch: after.largest_batch,
        barrier_calls: barrier_calls.load(Ordering::Relaxed)
            + writers.barriers.load(Ordering::Relaxed),
        reader_threads: sum(|seat| &seat.threads),
        registrations: after.readers_registered_total - before.readers_registered_total,
        yields: sum(|seat| &seat.yields),
        short_sleeps: sum(|seat| &seat.short_sleeps),
        long_sleeps: sum(|seat| &seat.long_sleeps),
        nested_sections: sum(|seat| &seat.nested),
        stalls: after.stalls - before.stalls,
        retired: Path::ALL
            .iter()
            .map(|&path| {
                (
                    path,
                    objects::pool().retired(path),
                    objects::pool().freed(path),
                )
            })
            .collect(),
        discarded: objects::pool().discarded(),
        compare_exchange_failures: writers.compare_exchange_failures.load(Ordering::Relaxed),
        sources: Source::ALL
            .iter()
            .map(|&source| (source, sum_source(&seats, source)))
            .collect(),
        list_entries_checked: sum(|seat| &seat.list_entries),
        null_reads: sum(|seat| &seat.null_reads),
        pipe,
        batch,
        peak_memory_kib: report::peak_memory_kib(),
    };
    check_progress(&summary);
    summary
}

fn sum_source(seats: &[Arc<SeatTotals>], source: Source) -> u64 {
    seats
        .iter()
        .map(|seat| seat.sources[source as usize].load(Ordering::Relaxed))
        .sum()
}

/// Unpublishes what is still published after the writers have stopped: the shared `Rcu`s'
/// values and the list's entries, so that every retired object can be counted as freed.
/// The object in `CURRENT` stays published; it was never retired.
fn retire_published() {
    pointers::retire_pointers();
    rcu_box::retire_box_rcu();
    let mut pipeline = list::ListPipeline::default();
    {
        let mut writer = list::list().lock();
        while let Some(unlinked) = writer.pop_front() {
            pipeline.push(unlinked);
        }
    }
    pipeline.drain();
}

/// Prints one status line a second on stderr until `deadline`.
fn print_status_until(deadline: Instant, seats: &[Arc<SeatTotals>]) {
    let reads = || -> u64 {
        seats
            .iter()
            .map(|seat| seat.reads.load(Ordering::Relaxed))
            .sum()
    };
    let mut last = (Instant::now(), reads(), rcu::stats().grace_periods);
    loop {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        thread::sleep((deadline - now).min(Duration::from_secs(1)));

        let stats = rcu::stats();
        let (now, reads) = (Instant::now(), reads());
        let elapsed = (now - last.0).as_secs_f64().max(1e-9);
        eprintln!(
            "torture: {:>12.0} reads/s {:>8.0} grace periods/s {:>7} callbacks pending {:>3} failures",
            (reads - last.1) as f64 / elapsed,
            (stats.grace_periods - last.2) as f64 / elapsed,
            stats.callback_backlog,
            report::failure_count(),
        );
        last = (now, reads, stats.grace_periods);
    }
}

/// Calls `rcu_barrier` every [`BARRIER_INTERVAL`] and checks that every torture callback
/// queued before the call has started by the time it returns.
fn run_barrier_checks(stop: &AtomicBool, calls: &AtomicU64) {
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(BARRIER_INTERVAL);
        objects::queue_panicking_callback();

        // SeqCst, like the increments: a callback counted here was queued before the barrier.
        let queued = CALLBACKS_QUEUED.load(Ordering::SeqCst);
        rcu::rcu_barrier();
        calls.fetch_add(1, Ordering::Relaxed);
        let started = CALLBACKS_STARTED.load(Ordering::SeqCst);
        if started < queued {
            record_failure(
                Failure::BarrierEarly,
                format!(
                    "rcu_barrier returned when {started} torture callbacks had started, \
                     but {queued} were queued before it"
                ),
            );
        }
    }
}

/// Runs `rcu_barrier` until every callback pipeline has freed its object. Each callback
/// requeues its object until the pipeline ends, so this takes up to `PIPE_LEN` rounds.
fn drain_callbacks() {
    let pool = objects::pool();
    for _ in 0..=objects::PIPE_LEN + 2 {
        rcu::rcu_barrier();
        if pool.total_freed() == pool.total_retired() {
            return;
        }
    }
}

/// Checks that every retired object was freed and every intentional panic was caught.
fn check_accounting(before: &rcu::Stats) {
    let pool = objects::pool();
    for path in Path::ALL {
        let (retired, freed) = (pool.retired(path), pool.freed(path));
        if retired != freed {
            record_failure(
                Failure::Accounting,
                format!(
                    "{retired} objects retired through {} but {freed} freed after the drain",
                    path.name()
                ),
            );
        }
    }

    let panicked = rcu::stats().callbacks_panicked - before.callbacks_panicked;
    let intentional = PANICS_QUEUED.load(Ordering::Relaxed);
    if panicked != intentional {
        record_failure(
            Failure::Accounting,
            format!(
                "{intentional} callbacks were queued to panic, but the crate counted {panicked} panics"
            ),
        );
    }
    let queued = CALLBACKS_QUEUED.load(Ordering::SeqCst);
    let started = CALLBACKS_STARTED.load(Ordering::SeqCst);
    if queued != started {
        record_failure(
            Failure::Accounting,
            format!("{queued} torture callbacks were queued but {started} ran after the drain"),
        );
    }
}

fn check_progress(summary: &Summary) {
    for (what, count) in [
        ("reads", summary.reads),
        ("updates", summary.updates),
        ("grace periods", summary.grace_periods),
    ] {
        if count == 0 {
            record_failure(Failure::NoProgress, format!("the run completed no {what}"));
        }
    }
}

/// Ends the process with FAILED if the run has not finished `limit` after it started.
fn start_watchdog(limit: Duration, finished: Arc<AtomicBool>) {
    thread::Builder::new()
        .name("torture-watchdog".into())
        .spawn(move || {
            thread::sleep(limit);
            if !finished.load(Ordering::Relaxed) {
                println!(
                    "FAILED: the run did not finish within {} s: a grace period, rcu_barrier \
                     or a reader is stuck",
                    limit.as_secs()
                );
                std::process::exit(1);
            }
        })
        .expect("failed to spawn the watchdog thread");
}

/// Hides the message of intentional callback panics and keeps the default for the rest.
fn install_quiet_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let intentional = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|message| message == INTENTIONAL_PANIC);
        if !intentional {
            default(info);
        }
    }));
}

/// Prints the crate's warnings and errors on stderr, except the logs of intentional
/// callback panics.
struct Logger;

static LOGGER: Logger = Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        let message = record.args().to_string();
        if self.enabled(record.metadata()) && !message.contains(INTENTIONAL_PANIC) {
            eprintln!("{}: {message}", record.level());
        }
    }

    fn flush(&self) {}
}
