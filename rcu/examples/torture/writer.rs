//! Writer threads: publish new objects and retire the old ones through every update API.

use crate::objects::{
    CURRENT, Path, pool, queue_call_rcu, queue_kfree_rcu, queue_panicking_callback,
};
use crate::options::Rng;
use crate::report::{Failure, record_failure};
use rcu::GpState;
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
}

/// One writer's objects that wait in its own pipelines.
struct Writer<'a> {
    rng: Rng,
    totals: &'a WriterTotals,
    /// Objects advanced once per grace period the writer waits for.
    waiting: Vec<u32>,
    /// Objects with the polled state that must complete before their next advance.
    polled: Vec<(u32, GpState)>,
}

/// Runs one writer until `stop` is set, then drains its pipelines.
pub fn run_writer(seed: u64, stop: &AtomicBool, totals: &WriterTotals) {
    let mut writer = Writer {
        rng: Rng::new(seed),
        totals,
        waiting: Vec::new(),
        polled: Vec::new(),
    };
    while !stop.load(Ordering::Relaxed) {
        writer.update();
    }
    writer.drain();
}

impl Writer<'_> {
    fn update(&mut self) {
        self.advance_polled(false);

        let Some(new) = pool().alloc() else {
            // Every object is in some pipeline; wait for a grace period to move them.
            self.totals.pool_empty.fetch_add(1, Ordering::Relaxed);
            self.wait_for_grace_period();
            return;
        };
        // Release pairs with the reader's Acquire load: a reader that finds the new object
        // sees it initialized. Acquire is not needed for the old value: its fields are
        // written only by whoever owns it next, which is this thread.
        let old = CURRENT.swap(new as usize, Ordering::AcqRel) as u32;
        self.totals.updates.fetch_add(1, Ordering::Relaxed);

        match self.rng.next_u64() % 8 {
            0 | 1 => {
                pool().retire(old, Path::Wait);
                self.waiting.push(old);
                self.wait_for_grace_period();
            }
            2 | 3 => {
                pool().retire(old, Path::Poll);
                self.polled.push((old, rcu::start_poll_synchronize_rcu()));
            }
            4 | 5 => {
                pool().retire(old, Path::CallRcu);
                queue_call_rcu(old);
            }
            _ => {
                pool().retire(old, Path::KfreeRcu);
                queue_kfree_rcu(old);
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
        self.waiting
            .retain(|&index| !pool().advance(index, Path::Wait));
        self.advance_polled(true);
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
            if pool().advance(*index, Path::Poll) {
                return false;
            }
            *state = rcu::start_poll_synchronize_rcu();
            true
        });
        self.totals
            .polls_completed
            .fetch_add(completed, Ordering::Relaxed);
    }

    /// Waits until both of this writer's pipelines are empty.
    fn drain(&mut self) {
        while !self.waiting.is_empty() || !self.polled.is_empty() {
            self.wait_for_grace_period();
        }
    }
}
