//! The torture objects, the pool they are recycled through, and the ways they are retired.
//!
//! Every object lives in one arena that is never freed. "Freeing" an object poisons its
//! canary and puts it back on the free list, so a reader that reaches a freed object reads
//! atomics in live memory. A broken grace period therefore shows as a poisoned canary, a
//! changed generation or a pipeline count above 1, and never as undefined behaviour.
//!
//! An object's pipeline count follows rcutorture: 0 while published, 1 once unpublished,
//! and one more after each grace period that its retirement path waits for. The object is
//! freed when the count reaches [`PIPE_LEN`].
//!
//! Each object sits in an `Arc` that the arena keeps for the whole run, so an `RcuList`
//! can hold more `Arc`s to it and dropping them never frees the memory.

use rcu::{HasField, ListLinks, RcuHead};
use std::ptr;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The pipeline count at which an object is freed, rcutorture's `RCU_TORTURE_PIPE_LEN`.
pub const PIPE_LEN: u64 = 10;
/// The canary of a live object.
pub const CANARY_LIVE: u64 = 0x5eed_c0de_a11e_0001;
/// The canary of a freed object.
pub const CANARY_POISON: u64 = 0xdead_beef_dead_beef;
/// The `ID` of the `ListLinks` through which objects join the torture list.
pub const LIST_ID: u64 = 0;

/// One torture object. Every field is an atomic, so readers that race with a (wrongly)
/// early free read stale or poisoned values but never race non-atomically.
#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
pub struct Object {
    #[field]
    head: RcuHead,
    #[field]
    links: ListLinks<LIST_ID>,
    /// The object's place in the arena, fixed at creation.
    pub index: u32,
    pub canary: AtomicU64,
    pub generation: AtomicU64,
    pub pipeline: AtomicU64,
    /// The [`Path`] it was last retired through, for the freed counts.
    path: AtomicU8,
}

/// A retirement path: the API that unpublished an object and the one that reclaims it
/// after its grace periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// `synchronize_rcu` or `cond_synchronize_rcu` by the writer.
    Wait,
    /// `start_poll_synchronize_rcu` and `poll_state_synchronize_rcu`.
    Poll,
    /// `call_rcu` on the object's own head.
    CallRcu,
    /// `kfree_rcu` of a small box that carries the object's index.
    KfreeRcu,
    /// `Rcu::swap`, then dropping the `RcuOld`, which waits.
    RcuSwap,
    /// `Rcu::compare_exchange`, then `RcuOld::synchronize`.
    RcuCompareExchange,
    /// The `Rcu::update` retry loop, then dropping the `RcuOld`.
    RcuUpdate,
    /// `Rcu::take` and a republish, then `RcuOld::synchronize`.
    RcuTake,
    /// `Rcu::replace` through `Pin<&mut Rcu>`, then `RcuOld::synchronize`.
    RcuReplace,
    /// `Rcu::copy_update` through `Pin<&mut Rcu>`, then dropping the `RcuOld`.
    RcuCopyUpdate,
    /// `Rcu<_, Defer>::swap`, then dropping the `RcuOld`, which queues a callback.
    DeferSwap,
    /// `Rcu::swap`, then `RcuOld::defer_drop`.
    DeferDrop,
    /// `DeferredRcu::swap`, `compare_exchange` or `update` of an `RcuBox` that carries the
    /// object's index, then dropping the `RcuOld`: the crate's callback frees the box,
    /// and the handle's drop inside it advances the object.
    RcuBox,
    /// `ListWriter::remove` or `pop_front`, then `Unlinked::synchronize` or dropping the
    /// `Unlinked`.
    ListRemove,
}

impl Path {
    pub const ALL: [Path; 14] = [
        Path::Wait,
        Path::Poll,
        Path::CallRcu,
        Path::KfreeRcu,
        Path::RcuSwap,
        Path::RcuCompareExchange,
        Path::RcuUpdate,
        Path::RcuTake,
        Path::RcuReplace,
        Path::RcuCopyUpdate,
        Path::DeferSwap,
        Path::DeferDrop,
        Path::RcuBox,
        Path::ListRemove,
    ];

    /// The path's key in the summary and the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Path::Wait => "synchronize",
            Path::Poll => "polled",
            Path::CallRcu => "call_rcu",
            Path::KfreeRcu => "kfree_rcu",
            Path::RcuSwap => "rcu_swap",
            Path::RcuCompareExchange => "rcu_compare_exchange",
            Path::RcuUpdate => "rcu_update",
            Path::RcuTake => "rcu_take",
            Path::RcuReplace => "rcu_replace",
            Path::RcuCopyUpdate => "rcu_copy_update",
            Path::DeferSwap => "defer_swap",
            Path::DeferDrop => "defer_drop",
            Path::RcuBox => "rcu_box",
            Path::ListRemove => "list_remove",
        }
    }

    /// The calls that unpublish and reclaim an object on this path.
    pub fn calls(self) -> &'static str {
        match self {
            Path::Wait => "store + synchronize_rcu or cond_synchronize_rcu",
            Path::Poll => "store + start_poll/poll_state_synchronize_rcu",
            Path::CallRcu => "store + call_rcu",
            Path::KfreeRcu => "store + kfree_rcu",
            Path::RcuSwap => "Rcu::swap + drop RcuOld",
            Path::RcuCompareExchange => "Rcu::compare_exchange + RcuOld::synchronize",
            Path::RcuUpdate => "Rcu::update + drop RcuOld",
            Path::RcuTake => "Rcu::take + RcuOld::synchronize",
            Path::RcuReplace => "Pin<&mut Rcu>::replace + RcuOld::synchronize",
            Path::RcuCopyUpdate => "Pin<&mut Rcu>::copy_update + drop RcuOld",
            Path::DeferSwap => "Rcu<_, Defer>::swap + drop RcuOld (call_rcu)",
            Path::DeferDrop => "Rcu::swap + RcuOld::defer_drop",
            Path::RcuBox => "DeferredRcu swap/compare_exchange/update + drop RcuOld",
            Path::ListRemove => "RcuList remove/pop_front + Unlinked",
        }
    }

    fn from_index(index: u8) -> Path {
        Path::ALL[usize::from(index)]
    }
}

/// The arena and its free list.
pub struct Pool {
    objects: &'static [Arc<Object>],
    free: Mutex<Vec<u32>>,
    /// Objects unpublished, per [`Path`].
    retired: [AtomicU64; Path::ALL.len()],
    /// Objects freed, per [`Path`].
    freed: [AtomicU64; Path::ALL.len()],
    /// Objects freed without ever being published: the values that lost a
    /// compare-and-exchange.
    discarded: AtomicU64,
    /// The most recently handed-out generation.
    generation: AtomicU64,
}

static POOL: OnceLock<Pool> = OnceLock::new();

/// The index of the published object: the RCU-protected pointer of the run.
pub static CURRENT: AtomicUsize = AtomicUsize::new(0);

/// Callbacks this run queued, and callbacks of this run that started; `rcu_barrier` checks
/// compare them.
pub static CALLBACKS_QUEUED: AtomicU64 = AtomicU64::new(0);
pub static CALLBACKS_STARTED: AtomicU64 = AtomicU64::new(0);

/// Creates the pool with `size` objects and publishes the first one.
pub fn init_pool(size: usize) {
    let objects: Vec<Arc<Object>> = (0..size as u32)
        .map(|index| {
            Arc::new(Object {
                head: RcuHead::new(),
                links: ListLinks::new(),
                index,
                canary: AtomicU64::new(CANARY_POISON),
                generation: AtomicU64::new(0),
                pipeline: AtomicU64::new(PIPE_LEN),
                path: AtomicU8::new(0),
            })
        })
        .collect();
    let new_pool = Pool {
        objects: Vec::leak(objects),
        free: Mutex::new((0..size as u32).rev().collect()),
        retired: Default::default(),
        freed: Default::default(),
        discarded: AtomicU64::new(0),
        generation: AtomicU64::new(0),
    };
    assert!(POOL.set(new_pool).is_ok(), "the pool is created once");

    let first = pool().alloc().expect("a new pool has free objects");
    // Relaxed: no thread reads CURRENT before the threads that read it are spawned.
    CURRENT.store(first as usize, Ordering::Relaxed);
}

pub fn pool() -> &'static Pool {
    POOL.get()
        .expect("init_pool runs before the torture threads start")
}

impl Pool {
    pub fn object(&self, index: usize) -> &'static Object {
        &self.objects[index]
    }

    /// Returns the object at `index`, or `None` if `index` is outside the arena.
    pub fn get(&self, index: usize) -> Option<&'static Object> {
        self.objects.get(index).map(|object| &**object)
    }

    /// Returns one more `Arc` to the object, for the list. The arena keeps its own `Arc`,
    /// so dropping this one never frees the object.
    pub fn arc(&self, index: u32) -> Arc<Object> {
        Arc::clone(&self.objects[index as usize])
    }

    /// Takes a free object and makes it live with a new generation, or `None` when every
    /// object is still in a pipeline.
    pub fn alloc(&self) -> Option<u32> {
        let index = self.free.lock().unwrap().pop()?;
        let object = self.object(index as usize);
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        // Relaxed: the object is published later with a Release store, which orders these.
        object.generation.store(generation, Ordering::Relaxed);
        object.pipeline.store(0, Ordering::Relaxed);
        object.canary.store(CANARY_LIVE, Ordering::Relaxed);
        Some(index)
    }

    /// Counts an unpublished object as retired through `path` and starts its pipeline.
    pub fn retire(&self, index: u32, path: Path) {
        self.retired[path as usize].fetch_add(1, Ordering::Relaxed);
        let object = self.object(index as usize);
        // Relaxed: read back by whoever advances the object, which the retiring thread
        // hands it to through a grace-period API that orders the two.
        object.path.store(path as u8, Ordering::Relaxed);
        // Relaxed: readers read the count atomically, and a correct grace period orders
        // their reads before every later increment.
        object.pipeline.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one grace period for `index` and returns the new pipeline count, without
    /// freeing the object.
    pub fn step(&self, index: u32) -> u64 {
        // Relaxed: as in `retire`.
        self.object(index as usize)
            .pipeline
            .fetch_add(1, Ordering::Relaxed)
            + 1
    }

    /// Records one grace period for `index`; frees it and returns `true` when it leaves
    /// the pipeline.
    pub fn advance(&self, index: u32) -> bool {
        if self.step(index) < PIPE_LEN {
            return false;
        }
        let object = self.object(index as usize);
        object.canary.store(CANARY_POISON, Ordering::Relaxed);
        let path = Path::from_index(object.path.load(Ordering::Relaxed));
        self.freed[path as usize].fetch_add(1, Ordering::Relaxed);
        self.free.lock().unwrap().push(index);
        true
    }

    /// Frees an object that was never published, so no reader can have reached it.
    pub fn discard(&self, index: u32) {
        let object = self.object(index as usize);
        object.canary.store(CANARY_POISON, Ordering::Relaxed);
        // Relaxed: as in `retire`; the value marks the object as out of every pipeline.
        object.pipeline.store(PIPE_LEN, Ordering::Relaxed);
        self.discarded.fetch_add(1, Ordering::Relaxed);
        self.free.lock().unwrap().push(index);
    }

    pub fn discarded(&self) -> u64 {
        self.discarded.load(Ordering::Relaxed)
    }

    pub fn retired(&self, path: Path) -> u64 {
        self.retired[path as usize].load(Ordering::Relaxed)
    }

    pub fn freed(&self, path: Path) -> u64 {
        self.freed[path as usize].load(Ordering::Relaxed)
    }

    pub fn total_retired(&self) -> u64 {
        Path::ALL.iter().map(|&path| self.retired(path)).sum()
    }

    pub fn total_freed(&self) -> u64 {
        Path::ALL.iter().map(|&path| self.freed(path)).sum()
    }

    /// Returns the object's head, derived from a pointer to the whole object so that
    /// `field_container_of` may later reach every field from it.
    fn head(&self, index: u32) -> *mut RcuHead {
        head_of(self.object(index as usize))
    }
}

/// Returns the object's head, derived from a pointer to the whole object so that
/// `field_container_of` may later reach every field from it.
pub fn head_of(object: &Object) -> *mut RcuHead {
    let object = ptr::from_ref(object).cast_mut();
    // SAFETY: `object` points to a live arena object. The head sits in `UnsafeCell`s, so
    // writing it through a pointer derived from a shared reference is allowed.
    unsafe { <Object as HasField<Object, RcuHead>>::raw_get_field(object) }
}

/// Queues the object for one more grace period through `call_rcu` on its own head, and
/// again after each grace period until it leaves the pipeline.
pub fn queue_call_rcu(index: u32) {
    unsafe fn advance_object(head: *mut RcuHead) {
        CALLBACKS_STARTED.fetch_add(1, Ordering::SeqCst);
        // SAFETY: `head` came from `Pool::head`, a projection of an arena object, and the
        // arena is never freed.
        let object = unsafe { &*<Object as HasField<Object, RcuHead>>::field_container_of(head) };
        if !pool().advance(object.index) {
            queue_call_rcu(object.index);
        }
    }

    // SAFETY: an object in the call_rcu path is owned by exactly one queued callback at a
    // time (the previous callback requeues only after it has finished with the head), and
    // the arena outlives every callback.
    unsafe { rcu::call_rcu(pool().head(index), advance_object) };
    count_queued();
}

/// A small box whose drop, run by `kfree_rcu` after a grace period, advances its object.
#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
pub struct Ticket {
    #[field]
    head: RcuHead,
    index: u32,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        CALLBACKS_STARTED.fetch_add(1, Ordering::SeqCst);
        if !pool().advance(self.index) {
            queue_kfree_rcu(self.index);
        }
    }
}

/// Queues the object for one more grace period through `kfree_rcu` of a [`Ticket`].
pub fn queue_kfree_rcu(index: u32) {
    rcu::kfree_rcu(Box::new(Ticket {
        head: RcuHead::new(),
        index,
    }));
    count_queued();
}

/// Counts a callback once `call_rcu` has returned.
///
/// Counting after the push, not before, is what makes the `rcu_barrier` check sound: a
/// barrier thread that sees the count (SeqCst on both sides) also sees the push, so its
/// own barrier callback is queued behind this one. The callback may start, and count
/// itself, before this increment; the check allows that.
pub fn count_queued() {
    CALLBACKS_QUEUED.fetch_add(1, Ordering::SeqCst);
}

/// The payload of callbacks that panic on purpose; the logger and panic hook hide them.
pub const INTENTIONAL_PANIC: &str = "torture: intentional callback panic";

/// Panicking callbacks queued on purpose.
pub static PANICS_QUEUED: AtomicU64 = AtomicU64::new(0);

/// Queues a callback that frees its own box and then panics.
pub fn queue_panicking_callback() {
    #[derive(HasField)]
    #[has_field(crate = "rcu::has_field")]
    struct Doomed {
        #[field]
        head: RcuHead,
    }

    unsafe fn free_and_panic(head: *mut RcuHead) {
        CALLBACKS_STARTED.fetch_add(1, Ordering::SeqCst);
        // SAFETY: `head` was projected from a leaked `Box<Doomed>` below, which only this
        // callback owns now.
        drop(unsafe {
            Box::from_raw(<Doomed as HasField<Doomed, RcuHead>>::field_container_of(
                head,
            ))
        });
        panic!("{INTENTIONAL_PANIC}");
    }

    PANICS_QUEUED.fetch_add(1, Ordering::Relaxed);
    let doomed = Box::into_raw(Box::new(Doomed {
        head: RcuHead::new(),
    }));
    // SAFETY: `doomed` is a fresh box that nothing else can reach.
    let head = unsafe { <Doomed as HasField<Doomed, RcuHead>>::raw_get_field(doomed) };
    // SAFETY: the head is fresh and the callback reclaims exactly this box.
    unsafe { rcu::call_rcu(head, free_and_panic) };
    count_queued();
}
