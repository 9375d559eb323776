//! Writer threads: publish new objects and retire the old ones through every update API.
//!
//! Each update picks one [`Path`]: a store to the raw index `CURRENT` followed by one of
//! the grace-period primitives, an update of the shared `Rcu`s or of the writer's own
//! `Rcu`, or a change to the list.

use crate::list::{ListPipeline, change_list};
use crate::objects::{
    CANARY_LIVE, CURRENT, Object, Path, pool, queue_call_rcu, queue_kfree_rcu,
    queue_panicking_callback,
};
use crate::options::Rng;
use crate::pointers::{ArenaPtr, DEFER_RCU, WAIT_RCU, retire_old};
use crate::rcu_box::{BOX_RCU, Handle, OldHandle, retire_handle};
use crate::report::{Failure, record_failure};
use rcu::{GpState, Rcu};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What the writers have done.
#[derive(Default)]
pub struct WriterTotals {
    pub updates: AtomicU64,
    pub synchronize: AtomicU64,
    pub cond_synchronize: AtomicU64,
    pub polls_completed: AtomicU64,
    pub pool_empty: AtomicU64,
    pub barriers: AtomicU64,
    /// `Rcu::compare_exchange` calls that lost to another writer.
    pub compare_exchange_failures: AtomicU64,
}

/// One writer's objects that wait in its own pipelines.
struct Writer<'a> {
    rng: Rng,
    totals: &'a WriterTotals,
    /// Objects advanced once per grace period the writer waits for.
    waiting: Vec<u32>,
    /// Objects with the polled state that must complete before their next advance.
    polled: Vec<(u32, GpState)>,
    /// Removed list entries.
    list: ListPipeline,
    /// The writer's own pointer, updated in the kernel's shape through `Pin<&mut Rcu>`.
    ///
    /// NOTE: readers cannot check this pointer. `Pin<&mut Rcu>` asserts exclusive access,
    /// so a reader's `&Rcu` to it at the same time would be undefined behaviour. Its old
    /// values go through the same pipeline, and the writer checks the value it replaces,
    /// but a broken grace period on this path is caught only by the other readers.
    own: Rcu<ArenaPtr>,
}

/// Runs one writer until `stop` is set, then drains its pipelines.
pub fn run_writer(seed: u64, stop: &AtomicBool, totals: &WriterTotals) {
    let mut writer = Writer {
        rng: Rng::new(seed),
        totals,
        waiting: Vec::new(),
        polled: Vec::new(),
        list: ListPipeline::default(),
        own: Rcu::null(),
    };
    while !stop.load(Ordering::Relaxed) {
        writer.update();
    }
    writer.drain();
}

/// Checks a published object that a writer borrows inside a read-side critical section
/// (`Rcu::update` and `copy_update` hand one to their closure): it must be live and still
/// in the first pipeline step.
fn check_current(current: Option<&Object>, api: &str) {
    let Some(object) = current else { return };
    // Relaxed: as in the reader's checks.
    let pipeline = object.pipeline.load(Ordering::Relaxed);
    let canary = object.canary.load(Ordering::Relaxed);
    if pipeline > 1 || canary != CANARY_LIVE {
        record_failure(
            Failure::PipelineTooHigh,
            format!(
                "{api} handed its closure object {} with pipeline count {pipeline} and canary \
                 {canary:#x}: the published value was retired",
                object.index
            ),
        );
    }
}

/// Checks a published handle that `DeferredRcu::update` hands to its closure: the handle
/// must be live and name an arena object, which `check_current` then checks.
fn check_handle(handle: &Handle, api: &str) {
    let (index, canary) = (handle.index(), handle.canary());
    match pool().get(index as usize) {
        Some(object) if canary == CANARY_LIVE => check_current(Some(object), api),
        _ => record_failure(
            Failure::Poisoned,
            format!(
                "{api} handed its closure a handle with object index {index} and canary \
                 {canary:#x}: the published box was freed"
            ),
        ),
    }
}

impl Writer<'_> {
    fn update(&mut self) {
        self.advance_polled(false);
        self.list.reclaim_ready();

        let Some(new) = ArenaPtr::alloc() else {
            // Every object is in some pipeline; wait for a grace period to move them.
            self.totals.pool_empty.fetch_add(1, Ordering::Relaxed);
            self.wait_for_grace_period();
            return;
        };
        self.totals.updates.fetch_add(1, Ordering::Relaxed);

        let path = Path::ALL[(self.rng.next_u64() % Path::ALL.len() as u64) as usize];
        match path {
            Path::Wait | Path::Poll | Path::CallRcu | Path::KfreeRcu => {
                self.update_current(new, path);
            }
            Path::RcuSwap => {
                if let Some(old) = WAIT_RCU.swap(new) {
                    // Waits for a grace period, then drops the `ArenaPtr`.
                    drop(retire_old(old, path));
                }
            }
            Path::RcuCompareExchange => self.compare_exchange(new),
            Path::RcuUpdate => self.update_in_loop(new),
            Path::RcuTake => self.take_and_republish(new),
            Path::RcuReplace => {
                let guard = rcu::read_lock();
                check_current(self.own.dereference(&guard), "the writer's own Rcu");
                drop(guard);
                if let Some(old) = Pin::new(&mut self.own).replace(new) {
                    drop(retire_old(old, path).synchronize());
                }
            }
            Path::RcuCopyUpdate => {
                let old = Pin::new(&mut self.own).copy_update(|current| {
                    check_current(current, "Rcu::copy_update");
                    new
                });
                if let Some(old) = old {
                    drop(retire_old(old, path));
                }
            }
            Path::DeferSwap => {
                // The Defer policy never waits, so the old value may be dropped inside a
                // read-side critical section; do that half the time.
                let guard = self.rng.one_in(2).then(rcu::read_lock);
                if let Some(old) = DEFER_RCU.swap(new) {
                    drop(retire_old(old, path));
                }
                drop(guard);
            }
            Path::DeferDrop => {
                let guard = self.rng.one_in(2).then(rcu::read_lock);
                if let Some(old) = WAIT_RCU.swap(new) {
                    retire_old(old, path).defer_drop();
                }
                drop(guard);
            }
            Path::RcuBox => {
                // The handle carries the ownership of the slot from here on.
                let index = std::mem::ManuallyDrop::new(new).index();
                self.update_boxed(index);
            }
            Path::ListRemove => {
                // The list owns `Arc`s; the arena keeps the slot until `ListPipeline`
                // frees it.
                let index = std::mem::ManuallyDrop::new(new).index();
                change_list(&mut self.rng, index, &mut self.list);
            }
        }

        if self.rng.one_in(512) {
            queue_panicking_callback();
        }
        if self.rng.one_in(1024) {
            self.totals.barriers.fetch_add(1, Ordering::Relaxed);
            rcu::rcu_barrier();
        }
        if !rcu::poll_state_synchronize_rcu(rcu::get_completed_synchronize_rcu()) {
            record_failure(
                Failure::Api,
                "poll_state_synchronize_rcu(get_completed_synchronize_rcu()) returned false".into(),
            );
        }
    }

    /// Publishes `new` in `CURRENT` and retires the old object through one of the
    /// grace-period primitives.
    fn update_current(&mut self, new: ArenaPtr, path: Path) {
        // The raw index carries the ownership from here on.
        let new = std::mem::ManuallyDrop::new(new).index();
        // Release pairs with the reader's Acquire load: a reader that finds the new object
        // sees it initialized. Acquire is not needed for the old value: its fields are
        // written only by whoever owns it next, which is this thread.
        let old = CURRENT.swap(new as usize, Ordering::AcqRel) as u32;
        pool().retire(old, path);
        match path {
            Path::Wait => {
                self.waiting.push(old);
                self.wait_for_grace_period();
            }
            Path::Poll => self.polled.push((old, rcu::start_poll_synchronize_rcu())),
            Path::CallRcu => queue_call_rcu(old),
            _ => queue_kfree_rcu(old),
        }
    }

    /// Publishes `new` in `WAIT_RCU` if it still holds the value seen under a guard, and
    /// takes the old value back through `RcuOld::synchronize`.
    fn compare_exchange(&mut self, new: ArenaPtr) {
        let guard = rcu::read_lock();
        let seen = WAIT_RCU.dereference(&guard);
        let old = match WAIT_RCU.compare_exchange(seen, new) {
            Ok(old) => old.map(|old| retire_old(old, Path::RcuCompareExchange)),
            Err(rejected) => {
                // Another writer published first; `rejected` was never published.
                self.totals
                    .compare_exchange_failures
                    .fetch_add(1, Ordering::Relaxed);
                drop(rejected);
                None
            }
        };
        // The guard ends before the wait: a grace period cannot end inside it.
        drop(guard);
        if let Some(old) = old {
            drop(old.synchronize());
        }
    }

    /// Publishes a fresh object in `WAIT_RCU` through the `Rcu::update` retry loop.
    fn update_in_loop(&mut self, new: ArenaPtr) {
        let mut first = Some(new);
        let old = WAIT_RCU.update(|current| {
            check_current(current, "Rcu::update");
            // A retry follows a lost race, whose loser `update` has just dropped, which
            // put its slot back on the free list.
            first.take().unwrap_or_else(|| {
                ArenaPtr::alloc().expect("a lost Rcu::update round freed an object")
            })
        });
        if let Some(old) = old {
            drop(retire_old(old, Path::RcuUpdate));
        }
    }

    /// Unpublishes `WAIT_RCU`'s value with `Rcu::take`, publishes `new` in the now null
    /// pointer, and takes the old value back through `RcuOld::synchronize`. Readers may
    /// find the pointer null in between.
    fn take_and_republish(&mut self, new: ArenaPtr) {
        let old = WAIT_RCU.take().map(|old| retire_old(old, Path::RcuTake));
        match WAIT_RCU.compare_exchange(None, new) {
            Ok(previous) => {
                if previous.is_some() {
                    record_failure(
                        Failure::Api,
                        "Rcu::compare_exchange(None, _) succeeded and returned an old value".into(),
                    );
                }
            }
            // Another writer published in between; `rejected` was never published.
            Err(rejected) => drop(rejected),
        }
        if let Some(old) = old {
            drop(old.synchronize());
        }
    }

    /// Publishes a handle to object `index` in `BOX_RCU` through `swap`,
    /// `compare_exchange` or the `update` loop, chosen at random, and lets the old handle
    /// go by dropping its `RcuOld`, which never waits.
    fn update_boxed(&mut self, index: u32) {
        // The Defer policy never waits, so the old handle may be dropped inside a
        // read-side critical section, as it is half the time.
        let guard = self.rng.one_in(2).then(rcu::read_lock);
        let old = match self.rng.next_u64() % 3 {
            0 => BOX_RCU.swap(Handle::boxed(index)),
            1 => self.compare_exchange_boxed(index),
            _ => BOX_RCU.update(|current| {
                if let Some(handle) = current {
                    check_handle(handle, "DeferredRcu::update");
                }
                // Every round boxes a new handle to the same object. A losing handle is
                // freed by the crate after a grace period, and its drop leaves the
                // object alone because it was never retired.
                Handle::boxed(index)
            }),
        };
        if let Some(old) = old {
            retire_handle(old);
        }
        drop(guard);
    }

    /// Publishes a handle to object `index` in `BOX_RCU` if the pointer still holds the
    /// handle seen under a guard. On failure the object goes back to the pool at once,
    /// because its handle was never published.
    fn compare_exchange_boxed(&mut self, index: u32) -> Option<OldHandle> {
        let guard = rcu::read_lock();
        let seen = BOX_RCU.dereference(&guard);
        match BOX_RCU.compare_exchange(seen, Handle::boxed(index)) {
            Ok(old) => old,
            Err(rejected) => {
                self.totals
                    .compare_exchange_failures
                    .fetch_add(1, Ordering::Relaxed);
                drop(rejected);
                pool().discard(index);
                None
            }
        }
    }

    /// Waits for one grace period, by `synchronize_rcu` or `cond_synchronize_rcu`, and
    /// advances every object in the waiting pipeline.
    ///
    /// Every polled state was taken before the wait, so each must read as completed
    /// afterwards; one that does not is a failure, and its object advances anyway so that
    /// a broken build still drains.
    fn wait_for_grace_period(&mut self) {
        if self.rng.one_in(2) {
            self.totals.synchronize.fetch_add(1, Ordering::Relaxed);
            rcu::synchronize_rcu();
        } else {
            self.totals.cond_synchronize.fetch_add(1, Ordering::Relaxed);
            let state = rcu::get_state_synchronize_rcu();
            rcu::cond_synchronize_rcu(state);
            if !rcu::poll_state_synchronize_rcu(state) {
                record_failure(
                    Failure::Api,
                    "poll_state_synchronize_rcu returned false right after \
                     cond_synchronize_rcu on the same state"
                        .into(),
                );
            }
        }
        self.waiting.retain(|&index| !pool().advance(index));
        self.advance_polled(true);
        self.list.after_grace_period();
    }

    /// Advances every polled object whose grace period has completed, or every polled
    /// object when `after_wait` says a full grace period has just been waited for.
    fn advance_polled(&mut self, after_wait: bool) {
        let mut completed = 0;
        self.polled.retain_mut(|(index, state)| {
            if !rcu::poll_state_synchronize_rcu(*state) {
                if !after_wait {
                    return true;
                }
                record_failure(
                    Failure::Api,
                    "poll_state_synchronize_rcu returned false for a state taken before a \
                     synchronize_rcu or cond_synchronize_rcu that has returned"
                        .into(),
                );
            }
            completed += 1;
            if pool().advance(*index) {
                return false;
            }
            *state = rcu::start_poll_synchronize_rcu();
            true
        });
        self.totals
            .polls_completed
            .fetch_add(completed, Ordering::Relaxed);
    }

    /// Retires the writer's own pointer and waits until every pipeline of this writer is
    /// empty.
    fn drain(&mut self) {
        if let Some(old) = self.own.take() {
            drop(retire_old(old, Path::RcuReplace).synchronize());
        }
        while !self.waiting.is_empty() || !self.polled.is_empty() || !self.list.is_empty() {
            self.wait_for_grace_period();
            self.list.reclaim_ready();
            std::thread::yield_now();
        }
    }
}
