//! The callback queue: one lock-free stack of `RcuHead`s per slot, swept whole by the
//! callback thread.
//!
//! Each thread that queues callbacks claims a [`Slot`] of its own, so in the common case a
//! push is one uncontended compare-and-swap on a cache line that no other producer
//! touches. Threads that find every slot claimed share the last slot, the overflow slot.
//! Every slot is a multi-producer stack all the same, so sharing one is only slower,
//! never wrong. A slot outlives its owner: when a thread exits it releases its slot, and
//! the callbacks still on the slot's stack wait there for the next sweep. Nothing is
//! handed over because nothing moves.
//!
//! The consumer (the callback thread, or a loom model) numbers its batches with
//! `batch_seq`, which is odd while a batch is in hand, as `gp_seq` numbers grace periods.
//! [`Queue::barrier_target`] names the first batch that starts after a call, and that
//! batch takes every callback pushed before the call, so `rcu_barrier` and the
//! backpressure wait need only watch `batch_seq`.
//!
//! The queue is generic over its slot count so that loom models can use a small one.

use crate::head::{RcuCallbackFn, RcuHead};
use crate::sync::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering, fence};
use core::ptr;

/// One stack of queued callbacks and the count of pushes it has seen.
#[repr(align(128))]
pub struct Slot {
    /// The newest queued head, or null. Heads link to older heads through `next`.
    top: AtomicPtr<RcuHead>,
    /// Callbacks ever pushed onto this slot.
    pushed: AtomicU64,
    /// Whether a thread owns this slot. The overflow slot is never claimed.
    claimed: AtomicBool,
}

impl Slot {
    #[cfg(not(loom))]
    const fn new() -> Self {
        Slot {
            top: AtomicPtr::new(ptr::null_mut()),
            pushed: AtomicU64::new(0),
            claimed: AtomicBool::new(false),
        }
    }

    #[cfg(loom)]
    fn new() -> Self {
        Slot {
            top: AtomicPtr::new(ptr::null_mut()),
            pushed: AtomicU64::new(0),
            claimed: AtomicBool::new(false),
        }
    }
}

/// The callback queue with `N` slots, the last of which is the shared overflow slot.
pub struct Queue<const N: usize> {
    slots: [Slot; N],
    /// One more than the highest slot index ever claimed; sweeps stop there.
    claimed_high: AtomicUsize,
    /// Batch sequence: odd while the consumer holds a batch, see the module docs.
    batch_seq: AtomicU64,
    /// The highest batch sequence value that a waiter needs; the consumer keeps sweeping
    /// until `batch_seq` reaches it, even when every slot is empty.
    requested_seq: AtomicU64,
    /// Callbacks that have run to completion, or panicked.
    invoked: AtomicU64,
    /// Set while the consumer is parked or about to park. Starts `true` so that the first
    /// push wakes (and so starts) the callback thread.
    sleeping: AtomicBool,
}

impl<const N: usize> Queue<N> {
    /// The index of the overflow slot.
    pub const OVERFLOW: usize = N - 1;

    /// Returns an empty queue whose consumer is not running.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Queue {
            slots: [const { Slot::new() }; N],
            claimed_high: AtomicUsize::new(0),
            batch_seq: AtomicU64::new(0),
            requested_seq: AtomicU64::new(0),
            invoked: AtomicU64::new(0),
            sleeping: AtomicBool::new(true),
        }
    }

    /// Returns an empty queue whose consumer is not running.
    #[cfg(loom)]
    pub fn new() -> Self {
        Queue {
            slots: core::array::from_fn(|_| Slot::new()),
            claimed_high: AtomicUsize::new(0),
            batch_seq: AtomicU64::new(0),
            requested_seq: AtomicU64::new(0),
            invoked: AtomicU64::new(0),
            sleeping: AtomicBool::new(true),
        }
    }

    /// Claims a free slot for the calling thread, or returns [`Self::OVERFLOW`] when every
    /// other slot is taken.
    pub fn claim_slot(&self) -> usize {
        for (index, slot) in self.slots[..Self::OVERFLOW].iter().enumerate() {
            if slot.claimed.load(Ordering::Relaxed) {
                continue;
            }
            // Acquire pairs with the Release in `release_slot`: the previous owner's
            // plain updates of `pushed` happen before this owner's.
            if slot
                .claimed
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                // Relaxed: ordered before this thread's pushes, which the consumer reads
                // with Acquire or after a SeqCst fence (see `push` and `prepare_sleep`).
                self.claimed_high.fetch_max(index + 1, Ordering::Relaxed);
                return index;
            }
        }
        Self::OVERFLOW
    }

    /// Gives `index` back after its owner's last push. Queued callbacks stay on the slot
    /// until the next sweep.
    pub fn release_slot(&self, index: usize) {
        if index != Self::OVERFLOW {
            // Release pairs with the Acquire in `claim_slot`.
            self.slots[index].claimed.store(false, Ordering::Release);
        }
    }

    /// Pushes `head` with `func` onto slot `index`. Returns `true` if the slot was empty,
    /// in which case the caller must call [`Self::wake_needed`] and wake the consumer if it
    /// returns `true`.
    ///
    /// # Safety
    ///
    /// - `head` points to a valid `RcuHead` that is not queued, and the queue owns it from
    ///   now until the consumer pops it.
    /// - Only the thread that claimed slot `index` pushes onto it, unless `index` is
    ///   [`Self::OVERFLOW`].
    #[inline]
    pub unsafe fn push(&self, index: usize, head: *mut RcuHead, func: RcuCallbackFn) -> bool {
        let slot = &self.slots[index];
        // SAFETY: the caller hands over `head`, so nothing else accesses its fields.
        unsafe { *(*head).func.get() = Some(func) };

        // Counted before the push, so that every callback the consumer can have run is
        // already counted here; `pending` relies on it.
        if index == Self::OVERFLOW {
            // Relaxed: ordered before the push by program order and published with it.
            slot.pushed.fetch_add(1, Ordering::Relaxed);
        } else {
            // Relaxed: only the owner writes a claimed slot's count (see `claim_slot`).
            let pushed = slot.pushed.load(Ordering::Relaxed);
            slot.pushed.store(pushed + 1, Ordering::Relaxed);
        }

        let mut top = slot.top.load(Ordering::Relaxed);
        loop {
            // SAFETY: exclusive access to `head` as above.
            unsafe { *(*head).next.get() = top };
            // Release pairs with the Acquire swap in `take_all`: the consumer sees the
            // head's fields and everything the caller wrote before queuing the callback.
            match slot
                .top
                .compare_exchange_weak(top, head, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return top.is_null(),
                // The consumer emptied the slot, or another producer pushed onto the
                // overflow slot: link to the new top and try again.
                Err(current) => top = current,
            }
        }
    }

    /// Returns `true` if the consumer is asleep and the caller must unpark it. Call it after
    /// a push onto an empty slot or after [`Self::request_batch`].
    #[inline]
    pub fn wake_needed(&self) -> bool {
        // SeqCst fence pairs with the one in `prepare_sleep` (store-buffering): either the
        // consumer's re-check after its fence sees our push or request, or our load below
        // sees `sleeping` set and we wake it.
        fence(Ordering::SeqCst);
        // Relaxed: the swap below decides, and only one waker wins it.
        self.sleeping.load(Ordering::Relaxed) && self.sleeping.swap(false, Ordering::AcqRel)
    }

    /// Marks the consumer as going to sleep and returns `true` if it may park now: no
    /// slot holds a callback and no waiter needs another batch. On `false` the consumer
    /// stays awake and takes a batch.
    pub fn prepare_sleep(&self) -> bool {
        // Relaxed: ordered before the re-check by the fence.
        self.sleeping.store(true, Ordering::Relaxed);
        // SeqCst fence pairs with the one in `wake_needed`.
        fence(Ordering::SeqCst);
        if self.has_work() {
            // Relaxed: only this thread and a waker's swap write `sleeping`, and both
            // leave it `false`.
            self.sleeping.store(false, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Returns `true` while the consumer must stay parked: no waker has cleared
    /// `sleeping` since [`Self::prepare_sleep`].
    pub fn still_sleeping(&self) -> bool {
        // Acquire pairs with the AcqRel swap in `wake_needed`.
        self.sleeping.load(Ordering::Acquire)
    }

    fn has_work(&self) -> bool {
        // Relaxed loads: called after the SeqCst fence in `prepare_sleep`, which makes
        // every push and request that raced with it visible or makes its waker wake us.
        let high = self.claimed_high.load(Ordering::Relaxed);
        let owned = self.slots[..high.min(Self::OVERFLOW)].iter();
        let any_queued = owned
            .chain(core::iter::once(&self.slots[Self::OVERFLOW]))
            .any(|slot| !slot.top.load(Ordering::Relaxed).is_null());
        // Relaxed: only the consumer writes `batch_seq`.
        let requested = self.requested_seq.load(Ordering::Relaxed);
        any_queued || requested > self.batch_seq.load(Ordering::Relaxed)
    }

    /// Marks the start of a batch. Must be followed by [`Self::take_all`] and then
    /// [`Self::end_batch`] once the batch has run. Consumer only.
    pub fn begin_batch(&self) {
        // Acquire pairs with the Release of the read-modify-write in `barrier_target`:
        // every push that happened before a waiter took its target is visible to the sweep
        // that follows, so the batch that starts here contains it.
        let seq = self.batch_seq.fetch_add(1, Ordering::AcqRel);
        debug_assert!(seq & 1 == 0, "a batch started while another was in hand");
    }

    /// Takes every queued callback. Consumer only, between `begin_batch` and `end_batch`.
    pub fn take_all(&self) -> Batch<N> {
        let mut batch = Batch {
            chains: [ptr::null_mut(); N],
            taken: 0,
        };
        // Relaxed: `begin_batch` synchronized with every waiter that needs this sweep, and
        // a thread that claimed its slot after this load has pushed nothing a waiter needs.
        let high = self.claimed_high.load(Ordering::Relaxed);
        let last = high.min(Self::OVERFLOW);
        for index in (0..last).chain(core::iter::once(Self::OVERFLOW)) {
            let slot = &self.slots[index];
            // Relaxed pre-check: an empty slot is skipped without taking its line
            // exclusively. A push it misses is on the stack for the next sweep, and one
            // that a waiter depends on is visible through `begin_batch`.
            if slot.top.load(Ordering::Relaxed).is_null() {
                continue;
            }
            // Acquire pairs with the Release compare-and-swap in `push`.
            batch.chains[index] = slot.top.swap(ptr::null_mut(), Ordering::Acquire);
        }
        batch
    }

    /// Records that `count` callbacks of the current batch have run.
    pub fn record_invoked(&self, count: u64) {
        // Release pairs with the Acquire load in `pending`.
        self.invoked.fetch_add(count, Ordering::Release);
    }

    /// Marks the end of the batch started by `begin_batch`. Consumer only.
    pub fn end_batch(&self) {
        // Release pairs with the Acquire load in `batch_done`: a waiter that sees the batch
        // end sees everything its callbacks did.
        self.batch_seq.fetch_add(1, Ordering::Release);
    }

    /// Returns the batch sequence value at which every callback pushed before this call
    /// has run.
    pub fn barrier_target(&self) -> u64 {
        // A read-modify-write, not a load, for the same reason as `snapshot` in the
        // grace-period engine: the consumer's `begin_batch` reads from this write, which
        // orders the caller's earlier pushes before that batch's sweep. If the sequence is
        // odd, the batch in hand may have swept past them already, so the target is the
        // end of the next one.
        let seq = self.batch_seq.fetch_add(0, Ordering::AcqRel);
        (seq + 3) & !1
    }

    /// Returns the end of the batch in hand, or of the next batch if none is.
    pub fn next_batch_end(&self) -> u64 {
        // Relaxed: a progress target for backpressure, which re-checks the backlog after
        // the wait; it promises nothing about particular callbacks.
        let seq = self.batch_seq.load(Ordering::Relaxed);
        (seq + 2) & !1
    }

    /// Asks the consumer to keep taking batches until `batch_seq` reaches `target`.
    /// The caller then calls [`Self::wake_needed`].
    pub fn request_batch(&self, target: u64) {
        // Relaxed: published to the consumer by the SeqCst fence in `wake_needed`.
        self.requested_seq.fetch_max(target, Ordering::Relaxed);
    }

    /// Returns `true` once `batch_seq` has reached `target`.
    pub fn batch_done(&self, target: u64) -> bool {
        // Acquire pairs with the Release in `end_batch`.
        self.batch_seq.load(Ordering::Acquire) >= target
    }

    /// Returns the number of callbacks pushed and not yet run.
    pub fn pending(&self) -> u64 {
        // Loaded first, with Acquire (pairs with `record_invoked`), so that every callback
        // counted here has its push counted by the loads below: `pending() == 0` means
        // every callback pushed before this call has run.
        let invoked = self.invoked.load(Ordering::Acquire);
        self.pushed_total().saturating_sub(invoked)
    }

    /// Returns the number of callbacks ever pushed.
    pub fn pushed_total(&self) -> u64 {
        // Relaxed loads: counters. A push that happens before this call is counted,
        // because its count is written before it in the same thread.
        let high = self.claimed_high.load(Ordering::Relaxed).min(Self::OVERFLOW);
        self.slots[..high]
            .iter()
            .chain(core::iter::once(&self.slots[Self::OVERFLOW]))
            .map(|slot| slot.pushed.load(Ordering::Relaxed))
            .sum()
    }
}

/// The callbacks taken by one sweep: one chain per slot, each newest first.
///
/// Callbacks of one batch come out in no promised order.
pub struct Batch<const N: usize> {
    chains: [*mut RcuHead; N],
    /// Chains before this index are empty.
    taken: usize,
}

impl<const N: usize> Batch<N> {
    /// Returns `true` if the sweep found no callbacks.
    pub fn is_empty(&self) -> bool {
        self.chains.iter().all(|chain| chain.is_null())
    }

    /// Removes one head and its callback from the batch, or returns `None` when the batch
    /// is empty. The head's `next` is read before it is returned, so the callback may free
    /// the head.
    pub fn pop(&mut self) -> Option<(*mut RcuHead, RcuCallbackFn)> {
        while self.taken < N {
            let head = self.chains[self.taken];
            if head.is_null() {
                self.taken += 1;
                continue;
            }
            // SAFETY: the batch owns every head on its chains: `take_all` took them from
            // the queue, and the Acquire swap there made their fields visible.
            let (next, func) = unsafe { (*(*head).next.get(), *(*head).func.get()) };
            self.chains[self.taken] = next;
            let func = func.expect("a queued RcuHead has no callback; it was queued twice");
            return Some((head, func));
        }
        None
    }
}
