//! The grace-period engine: `synchronize_rcu` and the polled grace-period API.
//!
//! A grace period advances the reader generation, runs the writer's half of the barrier,
//! and then waits for every registered reader to be quiescent or to carry the new
//! generation. A reader with the new generation entered its section after the generation
//! was published, so it sees every pointer unpublished before the grace period began.
//! Because the generation is a 48-bit counter that does not wrap in practice, a reader
//! that loaded an old generation and stored it late still looks old and is waited for.
//!
//! Grace periods are numbered by `gp_seq` as in the kernel: the low bit is set while one
//! is running, and the rest counts completed grace periods. A caller needs the first grace
//! period that *starts* after its call, so it takes a snapshot (`snap`) and waits until
//! `gp_seq` reaches it. Callers that arrive together share grace periods: whoever holds
//! the engine lock runs grace periods until the oldest waiting snapshot is reached, and
//! everyone whose snapshot is reached returns without running another.

use crate::barrier;
use crate::reader::{self, GEN_STEP, NEST_MASK, ReaderNode, assert_may_wait};
use crate::stall;
use crate::stats;
use crate::sync::{Arc, AtomicU64, Mutex, Ordering, global, lock, spin_wait};

/// A snapshot of the grace-period sequence, for the polled API.
///
/// Obtained from [`get_state_synchronize_rcu`] or [`start_poll_synchronize_rcu`]; it
/// reads as completed once a full grace period has elapsed after it was taken.
/// [`GpState::COMPLETED`] always reads as completed.
///
/// ```
/// let state = rcu::get_state_synchronize_rcu();
/// rcu::synchronize_rcu();
/// assert!(rcu::poll_state_synchronize_rcu(state));
/// assert!(rcu::poll_state_synchronize_rcu(rcu::GpState::COMPLETED));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GpState(u64);

impl GpState {
    /// A state that every poll reports as completed, like the kernel's
    /// `get_completed_synchronize_rcu()`. Snapshots are always even, so this odd value
    /// is never taken by a real snapshot.
    ///
    /// ```
    /// assert!(rcu::poll_state_synchronize_rcu(rcu::GpState::COMPLETED));
    /// ```
    pub const COMPLETED: GpState = GpState(1);
}

/// State owned by whoever runs grace periods.
struct Engine {
    /// Scratch copy of the registry, reused to avoid an allocation per grace period.
    readers: Vec<Arc<ReaderNode>>,
}

global! {
    /// The grace-period sequence: low bit set while a grace period runs.
    static GP_SEQ: AtomicU64 = AtomicU64::new(0);
}

global! {
    /// Serializes grace periods.
    static ENGINE: Mutex<Engine> = Mutex::new(Engine { readers: Vec::new() });
}

/// Returns the sequence value at which a grace period that starts after now has ended.
fn snap(seq: u64) -> u64 {
    seq.wrapping_add(3) & !1
}

/// Returns `true` once `seq` has reached `target`, allowing for wrap-around.
pub(crate) fn seq_done(seq: u64, target: u64) -> bool {
    seq.wrapping_sub(target) as i64 >= 0
}

/// Takes the snapshot that a caller of `synchronize_rcu` must wait for.
fn snapshot() -> u64 {
    // A read-modify-write, not a load, so that the caller's earlier updates reach the
    // grace period it ends up relying on. Release pairs with the Acquire of the increment
    // that starts a grace period. If this reads the sequence from before that start, the
    // increment reads from this write, so everything before this call happens before the
    // grace period's barrier and scan. Acquire pairs with the Release increment that ends
    // a grace period, for callers that find their target already reached.
    snap(GP_SEQ.fetch_add(0, Ordering::AcqRel))
}

/// Returns `true` if the grace period `target` has completed.
pub(crate) fn completed(target: u64) -> bool {
    // Acquire pairs with the Release store that ends a grace period, so the caller's
    // later frees happen after every load of the readers that grace period waited for.
    seq_done(GP_SEQ.load(Ordering::Acquire), target)
}

/// Waits for a full grace period: every read-side critical section that began before
/// the call has ended when it returns.
///
/// Concurrent callers share grace periods, so N threads that call it together cost one
/// or two grace periods, not N.
///
/// # Panics
///
/// Panics if the calling thread holds a [`Guard`](crate::Guard): the grace period would
/// wait for the caller's own section and never end.
///
/// ```
/// use std::sync::Arc;
///
/// let shared = Arc::new(rcu::Rcu::new(Box::new(String::from("old"))));
/// let old = shared.swap(Box::new(String::from("new")));
/// rcu::synchronize_rcu(); // no reader can still see "old"
/// # drop(old);
/// ```
#[track_caller]
pub fn synchronize_rcu() {
    assert_may_wait("synchronize_rcu()");
    let target = snapshot();
    wait_for(target);
}

/// Runs grace periods until `target` is reached, sharing with concurrent callers.
pub(crate) fn wait_for(target: u64) {
    #[cfg(feature = "broken-skip-grace-period")]
    {
        // Deliberately wrong: returns without waiting for readers, so that the torture
        // test can prove it detects a grace period that ends under a reader.
        let _ = target;
        return;
    }
    #[allow(unreachable_code)]
    if completed(target) {
        return;
    }
    let started = stats::record_gp_wait_start();
    crate::batching::wait_for(target);
    stats::record_gp_wait_end(started);
}

/// Runs grace periods until `target` is reached. Only the batching leader calls this.
pub(crate) fn run_until(target: u64, mut after_each: impl FnMut()) {
    let mut engine = lock(&ENGINE);
    while !completed(target) {
        run_grace_period(&mut engine);
        after_each();
    }
}

/// Runs one grace period. The caller holds the engine lock.
fn run_grace_period(engine: &mut Engine) {
    // Marks the grace period as running. Acquire pairs with the Release in `snapshot`:
    // callers that snapshotted the idle sequence have their updates ordered before what
    // follows. Only the engine lock holder changes the value; `snapshot` adds zero.
    let seq = GP_SEQ.fetch_add(1, Ordering::AcqRel);
    debug_assert!(
        seq & 1 == 0,
        "a grace period started while another was running"
    );

    // Relaxed: only the engine lock holder writes the generation.
    // NOTE: the generation has 48 bits and wraps after 2^48 grace periods (about nine
    // years at a million per second). A reader preempted between loading the generation
    // and storing it for exactly that many grace periods would then look current.
    let generation = reader::reader_gen()
        .load(Ordering::Relaxed)
        .wrapping_add(GEN_STEP);
    // Release pairs with the Acquire load in `read_lock`: a reader that copies this
    // generation sees all updates ordered before it, so the scan below may skip it.
    reader::reader_gen().store(generation, Ordering::Release);

    // Pairs with `reader_barrier` in `read_lock`: a reader that stored its state before
    // this point is seen by the scan, and one that stores it later sees our updates.
    barrier::writer_barrier();

    reader::snapshot_readers(&mut engine.readers);
    for node in engine.readers.drain(..) {
        wait_for_reader(&node, generation, seq);
    }

    // Marks the grace period as ended. Release pairs with the Acquire load in `completed`
    // and the Acquire in `snapshot`.
    GP_SEQ.fetch_add(1, Ordering::Release);
    stats::record_grace_period();
}

/// Waits until `node` is quiescent or has entered a section that began in `generation`.
fn wait_for_reader(node: &ReaderNode, generation: u64, seq: u64) {
    let mut backoff = Backoff::new();
    let mut stall = stall::Watch::new();
    loop {
        // Acquire pairs with the Release store in `Guard::drop`: the section's loads
        // happen before whatever the caller does after this grace period.
        let ctr = node.ctr.load(Ordering::Acquire);
        if ctr & NEST_MASK == 0 || ctr & !NEST_MASK == generation {
            return;
        }
        stall.check(node, seq / 2 + 1);
        backoff.wait();
    }
}

/// Spins, then yields, then sleeps for up to a millisecond at a time.
struct Backoff {
    step: u32,
}

impl Backoff {
    const SPIN_STEPS: u32 = 64;
    const YIELD_STEPS: u32 = 80;

    fn new() -> Self {
        Backoff { step: 0 }
    }

    fn wait(&mut self) {
        self.step = self.step.saturating_add(1);
        if self.step <= Self::SPIN_STEPS {
            spin_wait();
        } else if cfg!(loom) || self.step <= Self::YIELD_STEPS {
            crate::sync::thread::yield_now();
        } else {
            #[cfg(not(loom))]
            {
                let exponent = (self.step - Self::YIELD_STEPS).min(10);
                std::thread::sleep(std::time::Duration::from_micros(1 << exponent));
            }
        }
    }
}

/// Returns a snapshot of the grace-period state; it reads as completed once a full
/// grace period has elapsed after this call.
///
/// Does not start a grace period: pair it with [`start_poll_synchronize_rcu`], a
/// [`synchronize_rcu`] elsewhere, or [`cond_synchronize_rcu`]. Never blocks.
///
/// ```
/// let state = rcu::get_state_synchronize_rcu();
/// rcu::cond_synchronize_rcu(state); // waits only if no grace period has elapsed
/// assert!(rcu::poll_state_synchronize_rcu(state));
/// ```
pub fn get_state_synchronize_rcu() -> GpState {
    GpState(snapshot())
}

/// Like [`get_state_synchronize_rcu`], and also makes sure a grace period will start,
/// so polling the returned state eventually reports completion without another call.
///
/// Never waits for a grace period, so it may be called inside a read-side critical
/// section. It takes a short internal lock. The grace period runs on a background thread
/// that the crate starts on first use.
///
/// ```
/// let state = rcu::start_poll_synchronize_rcu();
/// while !rcu::poll_state_synchronize_rcu(state) {
///     std::thread::yield_now();
/// }
/// ```
pub fn start_poll_synchronize_rcu() -> GpState {
    let target = snapshot();
    if !completed(target) {
        crate::gp_thread::request(target);
    }
    GpState(target)
}

/// Returns `true` if a full grace period has elapsed since `state` was taken.
///
/// A `true` result is final. Never blocks. After `true`, memory unpublished before the
/// state was taken may be freed.
///
/// ```
/// let state = rcu::get_state_synchronize_rcu();
/// assert!(!rcu::poll_state_synchronize_rcu(state));
/// rcu::synchronize_rcu();
/// assert!(rcu::poll_state_synchronize_rcu(state));
/// ```
pub fn poll_state_synchronize_rcu(state: GpState) -> bool {
    if state == GpState::COMPLETED {
        return true;
    }
    completed(state.0)
}

/// Waits for a grace period unless one has elapsed since `state` was taken.
///
/// # Panics
///
/// Panics if the calling thread holds a [`Guard`](crate::Guard), even when no wait is
/// needed, so that the mistake shows on every run and not only on unlucky ones.
///
/// ```
/// let state = rcu::start_poll_synchronize_rcu();
/// rcu::cond_synchronize_rcu(state);
/// assert!(rcu::poll_state_synchronize_rcu(state));
/// ```
#[track_caller]
pub fn cond_synchronize_rcu(state: GpState) {
    assert_may_wait("cond_synchronize_rcu()");
    if !poll_state_synchronize_rcu(state) {
        wait_for(state.0);
    }
}

/// Returns a state that always reads as completed; see [`GpState::COMPLETED`].
///
/// ```
/// assert!(rcu::poll_state_synchronize_rcu(rcu::get_completed_synchronize_rcu()));
/// ```
pub fn get_completed_synchronize_rcu() -> GpState {
    GpState::COMPLETED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_waits_for_next_full_grace_period() {
        assert_eq!(snap(0), 2, "idle: the next grace period suffices");
        assert_eq!(snap(1), 4, "running: that one may have scanned already");
        assert_eq!(snap(2), 4);
        assert_eq!(snap(3), 6);
    }

    #[test]
    fn seq_done_handles_wrap() {
        assert!(seq_done(4, 4));
        assert!(seq_done(6, 4));
        assert!(!seq_done(2, 4));
        assert!(seq_done(1, u64::MAX - 1));
        assert!(!seq_done(u64::MAX - 1, 1));
    }
}
