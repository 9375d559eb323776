//! Read-side critical sections: the per-thread reader state and the registry of readers.
//!
//! Each registered thread owns one [`ReaderNode`] on its own cache line. Its `ctr` word
//! holds the reader generation the thread saw when its outermost section began (high
//! bits) and the nesting depth (low [`NEST_BITS`] bits); zero depth means the thread is
//! in a quiescent state. Only the owning thread writes `ctr`; the grace-period engine
//! reads it.

use crate::barrier;
use crate::stats;
use crate::sync::{Arc, AtomicBool, AtomicU64, Mutex, Ordering, global, lock, thread_locals};
use core::cell::{Cell, RefCell};
use core::ptr;

/// Bits of `ctr` that count nesting depth.
pub(crate) const NEST_BITS: u32 = 16;
/// Mask of the nesting depth in `ctr`.
pub(crate) const NEST_MASK: u64 = (1 << NEST_BITS) - 1;
/// The step by which each grace period advances the reader generation.
pub(crate) const GEN_STEP: u64 = 1 << NEST_BITS;

/// Pads and aligns a value to 128 bytes: two 64-byte lines, because x86 prefetches lines
/// in adjacent pairs.
#[repr(align(128))]
pub(crate) struct CacheAligned<T>(pub(crate) T);

/// One registered reader thread.
#[repr(align(128))]
pub(crate) struct ReaderNode {
    /// Generation snapshot and nesting depth, see the module docs.
    pub(crate) ctr: AtomicU64,
    /// Set when the thread exited with a section still open.
    pub(crate) exited_in_section: AtomicBool,
    /// The thread's name, for stall warnings.
    pub(crate) thread_name: Option<String>,
    /// The thread's id, for stall warnings.
    pub(crate) thread_id: std::thread::ThreadId,
}

impl ReaderNode {
    /// Describes the owning thread as `'name' (ThreadId(n))`.
    pub(crate) fn describe(&self) -> String {
        let name = self.thread_name.as_deref().unwrap_or("<unnamed>");
        format!("'{name}' ({:?})", self.thread_id)
    }
}

global! {
    /// The generation that readers copy into `ctr` when an outermost section begins.
    /// Written only by the grace-period engine, under its lock.
    static READER_GEN: CacheAligned<AtomicU64> = CacheAligned(AtomicU64::new(GEN_STEP));
}

global! {
    /// Every registered reader. Grace periods copy it and scan the copy, so a thread that
    /// registers never waits for a grace period to finish.
    static REGISTRY: Mutex<Vec<Arc<ReaderNode>>> = Mutex::new(Vec::new());
}

thread_locals! {
    /// This thread's node, or null before the thread registers. A raw pointer in a
    /// `const` thread-local without a destructor costs one load to read.
    static CURRENT: Cell<*const ReaderNode> = Cell::new(ptr::null());
    /// Owns this thread's registration; its destructor unregisters the thread.
    static REGISTRATION: RefCell<Option<Registration>> = RefCell::new(None);
}

/// Returns the reader generation cell.
pub(crate) fn reader_gen() -> &'static AtomicU64 {
    &READER_GEN.0
}

/// Copies the registry for one scan.
pub(crate) fn snapshot_readers(into: &mut Vec<Arc<ReaderNode>>) {
    into.clear();
    into.extend(lock(&REGISTRY).iter().cloned());
}

/// A read-side critical section, open for as long as the guard lives.
///
/// Created by [`read_lock`]. Sections nest: a thread may hold several guards, and the
/// section ends when the last one is dropped. While any guard lives, no grace period
/// that began after the section can complete, so data reached through
/// [`Rcu::dereference`](crate::Rcu::dereference) stays valid for the guard's lifetime.
///
/// A `Guard` is neither `Send` nor `Sync`: the section belongs to the thread that opened
/// it. Entering and leaving costs a few plain instructions and never waits for a grace
/// period. Only a thread's first section takes a lock, to register the thread.
///
/// ```
/// let outer = rcu::read_lock();
/// let inner = rcu::read_lock(); // sections nest
/// assert!(rcu::read_lock_held());
/// drop(inner);
/// outer.unlock();
/// assert!(!rcu::read_lock_held());
/// ```
#[must_use = "the read-side critical section ends when the guard is dropped"]
pub struct Guard {
    /// The opening thread's node. Being a raw pointer, it also makes the guard `!Send`
    /// and `!Sync`, with one compiler error that names the node when a guard is moved
    /// or shared across threads.
    node: *const ReaderNode,
}

impl Guard {
    /// Enters a read-side critical section; the same as [`read_lock`].
    ///
    /// ```
    /// let guard = rcu::Guard::new();
    /// drop(guard);
    /// ```
    #[inline]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        read_lock()
    }

    /// Ends the read-side critical section; the same as dropping the guard.
    ///
    /// ```
    /// let guard = rcu::read_lock();
    /// guard.unlock();
    /// ```
    #[inline]
    pub fn unlock(self) {}
}

impl core::fmt::Debug for Guard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

/// Enters a read-side critical section.
///
/// The first call on a thread registers the thread with the grace-period engine (one
/// allocation and a lock); later calls write only to this thread's own cache line and
/// read the shared generation, which changes once per grace period. The section
/// lasts until the returned [`Guard`] is dropped.
///
/// ```
/// use std::sync::Arc;
///
/// let value = Arc::new(rcu::Rcu::new(Box::new(7)));
/// let guard = rcu::read_lock();
/// assert_eq!(value.dereference(&guard), Some(&7));
/// ```
#[inline]
pub fn read_lock() -> Guard {
    let mut node = CURRENT.with(Cell::get);
    if node.is_null() {
        node = register_current_thread();
    }
    // SAFETY: a non-null `CURRENT` points to this thread's node, which the registry keeps
    // alive until the thread unregisters, and unregistering resets `CURRENT` first.
    let reader = unsafe { &*node };

    // Relaxed: only this thread writes `ctr`.
    let ctr = reader.ctr.load(Ordering::Relaxed);
    if ctr & NEST_MASK == 0 {
        // Acquire pairs with the engine's Release store of a new generation: a reader that
        // sees generation `g` also sees every pointer unpublished before `g` began, which
        // is what lets the engine skip readers that already carry `g`.
        let generation = reader_gen().load(Ordering::Acquire);
        // Release, although this store opens a section. A grace period that reads this
        // value and skips the thread must still find every earlier section of the thread
        // finished. A Relaxed store would not carry the Release of the earlier
        // `Guard::drop`, because same-thread stores do not extend a release sequence.
        // Release costs nothing extra on x86. Ordering against this section's own loads
        // comes from `reader_barrier`.
        reader.ctr.store(generation | 1, Ordering::Release);
        barrier::reader_barrier();
    } else {
        if ctr & NEST_MASK == NEST_MASK {
            nesting_overflow();
        }
        // Release for the same reason as above: whichever `ctr` value a grace period
        // reads must order all of the thread's earlier sections before it.
        reader.ctr.store(ctr + 1, Ordering::Release);
    }

    Guard { node }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the node outlives every guard of its thread: a thread that exits with a
        // section open keeps its node registered and alive (see `Registration::drop`).
        let reader = unsafe { &*self.node };
        let ctr = reader.ctr.load(Ordering::Relaxed);
        // Release pairs with the Acquire load in the engine's reader scan: every load of
        // the section happens before a grace period that sees this thread quiescent.
        reader.ctr.store(ctr - 1, Ordering::Release);
    }
}

/// Returns `true` if the calling thread is inside a read-side critical section.
///
/// The userspace counterpart of the kernel's `rcu_read_lock_held()`.
///
/// ```
/// assert!(!rcu::read_lock_held());
/// let _guard = rcu::read_lock();
/// assert!(rcu::read_lock_held());
/// ```
pub fn read_lock_held() -> bool {
    let node = CURRENT.try_with(Cell::get).unwrap_or(ptr::null());
    if node.is_null() {
        return false;
    }
    // SAFETY: as in `read_lock`, a non-null `CURRENT` is this thread's live node.
    let reader = unsafe { &*node };
    reader.ctr.load(Ordering::Relaxed) & NEST_MASK != 0
}

/// Panics if the calling thread is inside a read-side critical section.
///
/// Every API that waits for a grace period calls this first: a grace period cannot end
/// while the waiting thread itself holds a section open, so waiting would deadlock.
/// Returns `true` if [`assert_may_wait`] would panic on this thread. Drops that run while
/// the thread unwinds check this first and leak instead, because a second panic aborts.
pub(crate) fn wait_would_panic() -> bool {
    read_lock_held() || crate::list::lock_order::wait_would_conflict()
}

/// It also checks the one deadlock that a list's writer lock can build with grace
/// periods; see `list::lock_order`.
#[track_caller]
pub(crate) fn assert_may_wait(api: &str) {
    crate::list::lock_order::before_wait(api);
    if read_lock_held() {
        panic!(
            "{api} called inside an RCU read-side critical section: it waits for a grace \
             period, which cannot end while this thread is in a section, so it would \
             deadlock. End the section first (drop every Guard, or call Guard::unlock), or \
             use a form that never waits for a grace period: call_rcu, kfree_rcu, \
             RcuOld::defer_drop, the Defer policy of Rcu, or Unlinked::defer. The closure \
             passed to Rcu::update runs inside a section"
        );
    }
}

/// Unregisters the calling thread from the grace-period engine now, instead of at thread
/// exit.
///
/// Grace periods stop scanning the thread, and its reader state is freed. A later
/// [`read_lock`] on the thread registers it again. Useful for a long-lived thread that
/// has finished with RCU, and the userspace counterpart of liburcu's
/// `rcu_unregister_thread()`; threads that simply exit need not call it.
///
/// # Panics
///
/// Panics inside a read-side critical section, which the thread must end first.
///
/// ```
/// drop(rcu::read_lock());
/// rcu::unregister_thread();
/// drop(rcu::read_lock()); // registers again
/// ```
#[track_caller]
pub fn unregister_thread() {
    assert!(
        !read_lock_held(),
        "rcu::unregister_thread() called inside an RCU read-side critical section: drop \
         every Guard on this thread first"
    );
    let registration = REGISTRATION
        .try_with(|registration| registration.borrow_mut().take())
        .ok()
        .flatten();
    drop(registration);
}

#[cold]
#[inline(never)]
fn nesting_overflow() -> ! {
    panic!(
        "RCU read-side critical sections nested more than {} deep on this thread: \
         a Guard is probably being leaked in a loop",
        NEST_MASK
    );
}

/// Keeps a thread registered until its thread-locals are destroyed.
struct Registration {
    node: Arc<ReaderNode>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let depth = self.node.ctr.load(Ordering::Relaxed) & NEST_MASK;
        if depth != 0 {
            // A Guard outlives the thread's registration: it was leaked, or it sits in a
            // thread-local destroyed after this one. Either way it may still end the
            // section through the node, so the node stays registered and alive, and grace
            // periods wait for the section as for any other.
            self.node.exited_in_section.store(true, Ordering::Relaxed);
            stats::record_exit_in_section();
            crate::report::report_error!(
                "rcu: thread {} is exiting inside an RCU read-side critical section \
                 (nesting depth {depth}): grace periods will wait until its Guard is \
                 dropped, which happens later in this thread's exit if the Guard sits in \
                 another thread-local, and never if it was leaked. Drop every Guard before \
                 the thread returns",
                self.node.describe()
            );
            return;
        }

        let _ = CURRENT.try_with(|current| current.set(ptr::null()));
        let mut registry = lock(&REGISTRY);
        if let Some(index) = registry
            .iter()
            .position(|node| Arc::ptr_eq(node, &self.node))
        {
            registry.swap_remove(index);
            stats::record_unregistration();
        }
    }
}

#[cold]
#[inline(never)]
fn register_current_thread() -> *const ReaderNode {
    barrier::init();

    let thread = std::thread::current();
    let node = Arc::new(ReaderNode {
        ctr: AtomicU64::new(0),
        exited_in_section: AtomicBool::new(false),
        thread_name: thread.name().map(str::to_owned),
        thread_id: thread.id(),
    });
    let node_ptr = Arc::as_ptr(&node);
    lock(&REGISTRY).push(Arc::clone(&node));
    stats::record_registration();

    // When thread-locals are already being destroyed (a read_lock from another
    // thread-local's destructor), the registration cannot be stored and the node stays in
    // the registry for the life of the process. It is quiescent whenever the thread is
    // outside a section, so grace periods pass it by.
    let _ = REGISTRATION.try_with(|registration| {
        *registration.borrow_mut() = Some(Registration { node });
    });
    let _ = CURRENT.try_with(|current| current.set(node_ptr));
    node_ptr
}
