//! The torture list: an `RcuList` of arena objects that readers walk and writers change.
//!
//! The list owns `Arc<Object>`s, and the arena keeps one more `Arc` to every object, so
//! no entry's memory is freed when the list drops its `Arc`. Removed entries go through
//! the same pipeline counts as every other object: 1 at removal, and one more per grace
//! period that the writer waits for. The last step is `Unlinked::synchronize` or the drop
//! of the `Unlinked`, after which the arena poisons and recycles the object.
//!
//! Reclaiming an `Unlinked` also resets the entry's links, which sets its `next` to null.
//! A walk that stands on the entry at that moment would follow the null pointer, which no
//! arena can make harmless. In a correct build the grace period rules that out, but the
//! broken build must still report FAILED instead of crashing. So each reader seat also
//! announces its walks in a [`WalkCounter`], independent of RCU, and an entry is reclaimed
//! only after every walk that was running at the end of its pipeline has ended. The
//! pipeline counts are checked by readers before that, so this does not hide a broken
//! grace period.

use crate::objects::{LIST_ID, Object, PIPE_LEN, Path, pool};
use crate::options::Rng;
use crate::report::{Failure, record_failure};
use rcu::RcuList;
use rcu::list::Unlinked;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{Arc, OnceLock};

/// The list type: arena objects linked through their `ListLinks<LIST_ID>`.
pub type TortureList = RcuList<Object, LIST_ID, Arc<Object>>;
type UnlinkedEntry = Unlinked<Object, LIST_ID, Arc<Object>>;

/// The number of entries the writers keep on the list: above it, each insertion is
/// followed by removals.
pub const LIST_LEN: usize = 8;
/// The maximum number of entries one reader walk checks. Writers may insert ahead of a
/// walk, so a walk is not bounded by [`LIST_LEN`].
pub const WALK_LIMIT: usize = 16;

static LIST: OnceLock<TortureList> = OnceLock::new();
static WALKS: OnceLock<Box<[WalkCounter]>> = OnceLock::new();

/// One reader seat's walk count: odd while a walk is running. Written only by the seat's
/// current thread; aligned so that seats do not share a cache line.
#[repr(align(128))]
#[derive(Default)]
struct WalkCounter(AtomicU64);

/// Creates the list and one walk counter per reader seat.
pub fn init_list(seats: usize) {
    assert!(LIST.set(RcuList::new()).is_ok(), "the list is created once");
    let counters = (0..seats).map(|_| WalkCounter::default()).collect();
    assert!(
        WALKS.set(counters).is_ok(),
        "the walk counters are created once"
    );
}

pub fn list() -> &'static TortureList {
    LIST.get()
        .expect("init_list runs before the torture threads start")
}

fn walk_counters() -> &'static [WalkCounter] {
    WALKS
        .get()
        .expect("init_list runs before the torture threads start")
}

/// A list walk in progress on one reader seat; dropping it announces the end.
pub struct Walk {
    counter: &'static AtomicU64,
    started: u64,
}

/// Announces a list walk on `seat`. Call it before `RcuList::iter`, and drop the result
/// after the last read of an entry.
#[inline]
pub fn start_walk(seat: usize) -> Walk {
    let counter = &walk_counters()[seat].0;
    // Relaxed load: only this seat's threads write the counter, one after another.
    // Release store: a writer that loads this value (or a later one) synchronizes with
    // the end of the previous walk.
    let started = counter.load(Ordering::Relaxed) + 1;
    counter.store(started, Ordering::Release);
    // SeqCst pairs with the fence in `WalkSnapshot::take`: either the writer loads the odd
    // value and waits for this walk, or this walk loads every unlink made before that fence.
    fence(Ordering::SeqCst);
    Walk { counter, started }
}

impl Drop for Walk {
    fn drop(&mut self) {
        // Release pairs with the Acquire load in `WalkSnapshot::ended`: the walk's reads
        // happen before the writer resets the links.
        self.counter.store(self.started + 1, Ordering::Release);
    }
}

/// The walk counters of every seat, taken after some entries were unlinked.
struct WalkSnapshot(Box<[u64]>);

impl WalkSnapshot {
    fn take() -> WalkSnapshot {
        // SeqCst pairs with the fence in `start_walk`; see there.
        fence(Ordering::SeqCst);
        // Relaxed: the fence orders these loads after the unlinks.
        let counters = walk_counters()
            .iter()
            .map(|counter| counter.0.load(Ordering::Relaxed))
            .collect();
        WalkSnapshot(counters)
    }

    /// Returns `true` once every walk that was running at the snapshot has ended.
    fn ended(&self) -> bool {
        self.0.iter().zip(walk_counters()).all(|(&seen, counter)| {
            // Acquire pairs with the Release stores in `start_walk` and `Walk::drop`.
            seen % 2 == 0 || counter.0.load(Ordering::Acquire) != seen
        })
    }
}

/// Inserts the object `new` at the front, the back or after a random entry, then removes
/// entries (the front one, or a random one) until the list is back to [`LIST_LEN`].
pub fn change_list(rng: &mut Rng, new: u32, pipeline: &mut ListPipeline) {
    let mut writer = list().lock();
    let entry = pool().arc(new);
    match rng.next_u64() % 3 {
        0 => writer.push_front(entry),
        1 => writer.push_back(entry),
        _ => match random_entry(rng, &writer) {
            Some(after) => {
                if let Err(entry) = writer.insert_after(after, entry) {
                    record_failure(
                        Failure::Api,
                        format!(
                            "ListWriter::insert_after rejected object {}, which the writer \
                             found on the list under the writer lock",
                            after.index
                        ),
                    );
                    writer.push_back(entry);
                }
            }
            None => writer.push_back(entry),
        },
    }

    while writer.len() > LIST_LEN {
        let unlinked = if rng.one_in(2) {
            writer.pop_front()
        } else {
            random_entry(rng, &writer).and_then(|entry| writer.remove(entry))
        };
        let Some(unlinked) = unlinked else {
            record_failure(
                Failure::Api,
                format!(
                    "removing an entry from a list of {} entries returned None",
                    writer.len()
                ),
            );
            return;
        };
        if writer.contains(&unlinked) {
            record_failure(
                Failure::Api,
                format!(
                    "object {} is still on the list after its removal",
                    unlinked.index
                ),
            );
        }
        pipeline.push(unlinked);
    }
}

/// Returns a random entry of the list, as the arena's `'static` reference so that it
/// does not borrow the writer.
fn random_entry(
    rng: &mut Rng,
    writer: &rcu::list::ListWriter<'_, Object, LIST_ID, Arc<Object>>,
) -> Option<&'static Object> {
    if writer.is_empty() {
        return None;
    }
    let position = rng.next_u64() as usize % writer.len();
    let index = writer.iter().nth(position)?.index;
    Some(pool().object(index as usize))
}

/// One writer's removed list entries, on their way through the pipeline.
#[derive(Default)]
pub struct ListPipeline {
    /// Entries that advance once per grace period the writer waits for.
    pending: Vec<UnlinkedEntry>,
    /// Entries at the last step, with the walks that must end before they are reclaimed.
    gated: Vec<(WalkSnapshot, Vec<UnlinkedEntry>)>,
    /// Reclaimed entries, to alternate between `synchronize` and drop.
    reclaimed: u64,
}

impl ListPipeline {
    /// Retires a removed entry and starts its pipeline.
    pub fn push(&mut self, unlinked: UnlinkedEntry) {
        pool().retire(unlinked.index, Path::ListRemove);
        self.pending.push(unlinked);
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.gated.is_empty()
    }

    /// Records a grace period that the writer has waited for. Entries that reach the last
    /// step wait for the walks running now.
    pub fn after_grace_period(&mut self) {
        // Each entry steps once; those that reach the last step leave `pending`.
        let (last_step, pending): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|unlinked| pool().step(unlinked.index) >= PIPE_LEN - 1);
        self.pending = pending;
        if !last_step.is_empty() {
            self.gated.push((WalkSnapshot::take(), last_step));
        }
    }

    /// Reclaims the entries whose walks have ended: through `Unlinked::synchronize` or the
    /// drop of the `Unlinked`, each of which waits for one more grace period.
    pub fn reclaim_ready(&mut self) {
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.gated)
            .into_iter()
            .partition(|(snapshot, _)| snapshot.ended());
        self.gated = waiting;
        for unlinked in ready.into_iter().flat_map(|(_, entries)| entries) {
            let index = unlinked.index;
            self.reclaimed += 1;
            if self.reclaimed % 2 == 0 {
                let entry: Arc<Object> = unlinked.synchronize();
                drop(entry);
            } else {
                drop(unlinked);
            }
            if !pool().advance(index) {
                record_failure(
                    Failure::Accounting,
                    format!("list object {index} was reclaimed before its last pipeline step"),
                );
            }
        }
    }

    /// Waits for grace periods until every entry is reclaimed.
    pub fn drain(&mut self) {
        while !self.is_empty() {
            rcu::synchronize_rcu();
            self.after_grace_period();
            self.reclaim_ready();
            std::thread::yield_now();
        }
    }
}
