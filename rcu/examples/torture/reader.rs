//! Reader threads: read-side critical sections that check what they can reach.
//!
//! Each reader seat runs one thread at a time. A thread runs a random number of sections
//! and exits, and the seat starts a fresh one, so threads keep registering with the crate
//! and unregistering while grace periods run.
//!
//! Each section reads one [`Source`]: the raw index `CURRENT`, one of the shared `Rcu`s,
//! or a walk of the list, which checks up to [`WALK_LIMIT`] entries. Through the
//! `DeferredRcu` a section reaches an `RcuBox` handle first, and checks the handle as well
//! as the object whose index it carries.

use crate::list::{WALK_LIMIT, list, start_walk};
use crate::objects::{CANARY_LIVE, CURRENT, Object, PIPE_LEN, pool};
use crate::options::Rng;
use crate::pointers::{DEFER_RCU, WAIT_RCU};
use crate::rcu_box::{BOX_RCU, Handle};
use crate::report::{Failure, record_failure};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

/// Buckets of the pipeline histogram: counts 0 to `PIPE_LEN`, and one for anything above.
pub const PIPE_BUCKETS: usize = PIPE_LEN as usize + 2;
/// Buckets of the batch histogram: grace periods 0 to 9 during a sampled section, and 10
/// or more.
pub const BATCH_BUCKETS: usize = 11;

/// What one seat's threads have done, flushed from thread-local counts now and then.
#[derive(Default)]
pub struct SeatTotals {
    pub reads: AtomicU64,
    /// Sections per [`Source`].
    pub sources: [AtomicU64; Source::ALL.len()],
    /// Entries checked by list walks.
    pub list_entries: AtomicU64,
    /// Sections that found a shared `Rcu` null (between `Rcu::take` and the republish).
    pub null_reads: AtomicU64,
    pub threads: AtomicU64,
    pub yields: AtomicU64,
    pub short_sleeps: AtomicU64,
    pub long_sleeps: AtomicU64,
    pub nested: AtomicU64,
    pub pipe: [AtomicU64; PIPE_BUCKETS],
    pub batch: [AtomicU64; BATCH_BUCKETS],
}

#[derive(Default)]
struct LocalCounts {
    reads: u64,
    sources: [u64; Source::ALL.len()],
    list_entries: u64,
    null_reads: u64,
    yields: u64,
    short_sleeps: u64,
    long_sleeps: u64,
    nested: u64,
    pipe: [u64; PIPE_BUCKETS],
    batch: [u64; BATCH_BUCKETS],
}

impl LocalCounts {
    fn flush(&mut self, totals: &SeatTotals) {
        // Relaxed: statistics, read after the threads are joined or for the status line.
        let add = |total: &AtomicU64, count: &mut u64| {
            total.fetch_add(*count, Ordering::Relaxed);
            *count = 0;
        };
        add(&totals.reads, &mut self.reads);
        add(&totals.list_entries, &mut self.list_entries);
        add(&totals.null_reads, &mut self.null_reads);
        for (total, count) in totals.sources.iter().zip(&mut self.sources) {
            add(total, count);
        }
        add(&totals.yields, &mut self.yields);
        add(&totals.short_sleeps, &mut self.short_sleeps);
        add(&totals.long_sleeps, &mut self.long_sleeps);
        add(&totals.nested, &mut self.nested);
        for (total, count) in totals.pipe.iter().zip(&mut self.pipe) {
            add(total, count);
        }
        for (total, count) in totals.batch.iter().zip(&mut self.batch) {
            add(total, count);
        }
    }
}

/// Runs reader threads for one seat until `stop` is set.
pub fn run_seat(seat: usize, seed: u64, stop: Arc<AtomicBool>, totals: Arc<SeatTotals>) {
    let mut rng = Rng::new(seed);
    while !stop.load(Ordering::Relaxed) {
        let sections = rng.range(5_000, 500_000);
        let thread_seed = rng.next_u64();
        let stop = Arc::clone(&stop);
        let totals_for_thread = Arc::clone(&totals);
        totals.threads.fetch_add(1, Ordering::Relaxed);
        let reader = thread::Builder::new()
            .name(format!("torture-reader-{seat}"))
            .spawn(move || run_reader(seat, sections, thread_seed, &stop, &totals_for_thread))
            .expect("failed to spawn a reader thread");
        if reader.join().is_err() {
            record_failure(Failure::ThreadPanicked, "a reader thread panicked".into());
            return;
        }
    }
}

fn run_reader(seat: usize, sections: u64, seed: u64, stop: &AtomicBool, totals: &SeatTotals) {
    let mut rng = Rng::new(seed);
    let mut counts = LocalCounts::default();
    for section in 0..sections {
        if section % 1024 == 0 {
            counts.flush(totals);
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
        read_once(seat, &mut rng, &mut counts);
    }
    counts.flush(totals);
}

/// Where a read-side critical section finds its objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The raw index `CURRENT`, loaded with Acquire.
    Current,
    /// `Rcu::dereference` of the shared `Wait`-policy pointer.
    WaitRcu,
    /// `Rcu::dereference` of the shared `Defer`-policy pointer.
    DeferRcu,
    /// `DeferredRcu::dereference` of the shared `RcuBox` handle.
    BoxRcu,
    /// `RcuList::iter`.
    List,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::Current,
        Source::WaitRcu,
        Source::DeferRcu,
        Source::BoxRcu,
        Source::List,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Source::Current => "index",
            Source::WaitRcu => "Rcu<Wait>",
            Source::DeferRcu => "Rcu<Defer>",
            Source::BoxRcu => "DeferredRcu",
            Source::List => "RcuList",
        }
    }

    fn choose(roll: u64) -> Source {
        // Bits above those the faults and sampling use, so the choices are independent.
        Source::ALL[((roll >> 32) % Source::ALL.len() as u64) as usize]
    }
}

/// An object as a section found it at its start.
#[derive(Clone, Copy)]
struct Seen<'g> {
    object: &'g Object,
    generation: u64,
    canary: u64,
}

impl<'g> Seen<'g> {
    #[inline]
    fn new(object: &'g Object) -> Self {
        // Relaxed: inside the section, these loads are ordered before the end of any grace
        // period that waits for it, and so before any pipeline advance or free after it.
        Seen {
            object,
            generation: object.generation.load(Ordering::Relaxed),
            canary: object.canary.load(Ordering::Relaxed),
        }
    }

    /// Checks the object again at the end of the section, and counts its pipeline.
    #[inline]
    fn check(&self, source: Source, counts: &mut LocalCounts) {
        // Relaxed: as in `new`.
        let pipeline = self.object.pipeline.load(Ordering::Relaxed);
        let canary_at_end = self.object.canary.load(Ordering::Relaxed);
        let generation_at_end = self.object.generation.load(Ordering::Relaxed);
        counts.pipe[(pipeline as usize).min(PIPE_BUCKETS - 1)] += 1;

        let (index, generation, canary_at_start) =
            (self.object.index, self.generation, self.canary);
        let source = source.name();
        if pipeline > 1 {
            record_failure(
                Failure::PipelineTooHigh,
                format!(
                    "a reader saw object {index} (generation {generation}, through {source}) \
                     with pipeline count {pipeline} at the end of its section: a grace \
                     period ended under the reader"
                ),
            );
        }
        if canary_at_start != CANARY_LIVE || canary_at_end != CANARY_LIVE {
            record_failure(
                Failure::Poisoned,
                format!(
                    "a reader saw object {index} (generation {generation}, through {source}) \
                     with a poisoned canary ({canary_at_start:#x} at start, \
                     {canary_at_end:#x} at end): it was freed under the reader"
                ),
            );
        }
        if generation_at_end != generation {
            record_failure(
                Failure::Reused,
                format!(
                    "object {index} (through {source}) changed from generation {generation} \
                     to {generation_at_end} during a read-side critical section: it was \
                     freed and reused under the reader"
                ),
            );
        }
    }
}

/// An `RcuBox` handle as a section found it at its start, with the object it names.
///
/// In a broken build the box may be freed while the section reads it: see the NOTE in
/// the `rcu_box` module.
#[derive(Clone, Copy)]
struct SeenHandle<'g> {
    handle: &'g Handle,
    index: u32,
    generation: u64,
    canary: u64,
    /// `None` when the index was outside the arena, which `new` has reported.
    object: Option<Seen<'g>>,
}

impl<'g> SeenHandle<'g> {
    #[inline]
    fn new(handle: &'g Handle) -> Self {
        let (index, generation, canary) = (handle.index(), handle.generation(), handle.canary());
        let object = pool().get(index as usize).map(Seen::new);
        if object.is_none() {
            record_failure(
                Failure::Poisoned,
                format!(
                    "a reader read object index {index} (canary {canary:#x}) from an RcuBox \
                     handle through DeferredRcu, outside the arena: the box was freed under \
                     the reader"
                ),
            );
        }
        SeenHandle {
            handle,
            index,
            generation,
            canary,
            object,
        }
    }

    /// Checks the handle again at the end of the section, then the object it names.
    #[inline]
    fn check(&self, source: Source, counts: &mut LocalCounts) {
        let canary_at_end = self.handle.canary();
        let index_at_end = self.handle.index();
        let generation_at_end = self.handle.generation();

        let (index, generation, canary_at_start) = (self.index, self.generation, self.canary);
        let source_name = source.name();
        if canary_at_start != CANARY_LIVE || canary_at_end != CANARY_LIVE {
            record_failure(
                Failure::Poisoned,
                format!(
                    "a reader saw the RcuBox handle of object {index} (generation \
                     {generation}, through {source_name}) with a poisoned canary \
                     ({canary_at_start:#x} at start, {canary_at_end:#x} at end): the crate \
                     freed the box under the reader"
                ),
            );
        }
        if index_at_end != index || generation_at_end != generation {
            record_failure(
                Failure::Reused,
                format!(
                    "the RcuBox handle read through {source_name} changed from object \
                     {index} generation {generation} to object {index_at_end} generation \
                     {generation_at_end} during a read-side critical section: the box was \
                     freed and its memory reused under the reader"
                ),
            );
        }
        let Some(seen) = self.object else { return };
        if seen.generation != generation {
            record_failure(
                Failure::Reused,
                format!(
                    "the RcuBox handle of object {index} (through {source_name}) names \
                     generation {generation}, but the object had generation {} at the start \
                     of the section: the object was recycled while the handle was published",
                    seen.generation
                ),
            );
        }
        seen.check(source, counts);
    }
}

/// The objects one section found: one, none (a null `Rcu`), an `RcuBox` handle with its
/// object, or up to [`WALK_LIMIT`] list entries. The list variant is built only by list
/// walks, so other sections do not pay for its array.
#[expect(
    clippy::large_enum_variant,
    reason = "a local of one section; boxing the list variant would allocate per walk"
)]
enum Found<'g> {
    One(Option<Seen<'g>>),
    Boxed(Option<SeenHandle<'g>>),
    List {
        entries: [Option<Seen<'g>>; WALK_LIMIT],
        len: usize,
    },
}

impl<'g> Found<'g> {
    #[inline]
    fn read(source: Source, guard: &'g rcu::Guard) -> Found<'g> {
        match source {
            Source::Current => {
                // Acquire pairs with the writer's Release publication: the object's fields
                // as initialized before publication are visible.
                let index = CURRENT.load(Ordering::Acquire);
                Found::One(Some(Seen::new(pool().object(index))))
            }
            Source::WaitRcu => Found::One(WAIT_RCU.dereference(guard).map(Seen::new)),
            Source::DeferRcu => Found::One(DEFER_RCU.dereference(guard).map(Seen::new)),
            Source::BoxRcu => Found::Boxed(BOX_RCU.dereference(guard).map(SeenHandle::new)),
            Source::List => {
                let mut entries = [None; WALK_LIMIT];
                let mut len = 0;
                for (slot, object) in entries.iter_mut().zip(list().iter(guard)) {
                    *slot = Some(Seen::new(object));
                    len += 1;
                }
                Found::List { entries, len }
            }
        }
    }

    #[inline]
    fn check(&self, source: Source, counts: &mut LocalCounts) {
        match self {
            Found::One(Some(seen)) => seen.check(source, counts),
            Found::Boxed(Some(seen)) => seen.check(source, counts),
            Found::One(None) | Found::Boxed(None) => counts.null_reads += 1,
            Found::List { entries, len } => {
                counts.list_entries += *len as u64;
                for seen in entries[..*len].iter().flatten() {
                    seen.check(source, counts);
                }
            }
        }
    }
}

/// One read-side critical section with its checks and injected faults.
///
/// One section in [`SAMPLE_EVERY`], and every section that sleeps, is also sampled: it
/// counts the grace periods that complete during it for the batch histogram, and checks
/// that a grace-period state taken at its start does not complete before its end.
#[inline]
fn read_once(seat: usize, rng: &mut Rng, counts: &mut LocalCounts) {
    let roll = rng.next_u64();
    let fault = Fault::choose(roll);
    let sampled = roll % SAMPLE_EVERY == 7 || matches!(fault, Fault::ShortSleep | Fault::LongSleep);
    let source = Source::choose(roll);
    // Announced before the section and ended after it; see `list::start_walk`.
    let walk = (source == Source::List).then(|| start_walk(seat));

    let guard = rcu::read_lock();
    let sample_start =
        sampled.then(|| (rcu::stats().grace_periods, rcu::get_state_synchronize_rcu()));
    let found = Found::read(source, &guard);

    if roll % 16 == 0 {
        counts.nested += 1;
        let inner = rcu::read_lock();
        assert!(rcu::read_lock_held(), "a nested section is held");
        drop(inner);
    }
    fault.inject(rng, counts);

    found.check(source, counts);
    if let Some((grace_periods, state)) = sample_start {
        let completed = rcu::stats().grace_periods - grace_periods;
        counts.batch[(completed as usize).min(BATCH_BUCKETS - 1)] += 1;
        if rcu::poll_state_synchronize_rcu(state) {
            record_failure(
                Failure::PolledUnderReader,
                "a grace-period state taken inside a read-side critical section completed \
                 before the section ended"
                    .into(),
            );
        }
    }
    drop(guard);
    drop(walk);

    counts.reads += 1;
    counts.sources[source as usize] += 1;
}

/// One reader section in this many is sampled; see [`read_once`].
pub const SAMPLE_EVERY: u64 = 256;

/// A delay injected inside a read-side critical section.
#[derive(Clone, Copy)]
enum Fault {
    None,
    Yield,
    ShortSleep,
    LongSleep,
}

impl Fault {
    fn choose(roll: u64) -> Fault {
        if roll % 64 == 1 {
            Fault::Yield
        } else if roll % 8192 == 2 {
            Fault::ShortSleep
        } else if roll % 131_072 == 3 {
            Fault::LongSleep
        } else {
            Fault::None
        }
    }

    fn inject(self, rng: &mut Rng, counts: &mut LocalCounts) {
        match self {
            Fault::None => {}
            Fault::Yield => {
                counts.yields += 1;
                thread::yield_now();
            }
            Fault::ShortSleep => {
                counts.short_sleeps += 1;
                thread::sleep(Duration::from_micros(rng.range(10, 200)));
            }
            Fault::LongSleep => {
                counts.long_sleeps += 1;
                thread::sleep(Duration::from_millis(rng.range(2, 20)));
            }
        }
    }
}
