//! The callback queue: `call_rcu`, its typed forms, and `rcu_barrier`.
//!
//! Callbacks are pushed onto a lock-free stack of `RcuHead`s. The callback thread takes
//! the whole stack at once, waits for one grace period that starts after the take, and
//! runs the batch oldest first, so one grace period serves every callback queued before it.

use crate::head::{HasRcuHead, RcuCallbackFn, RcuHead};
use crate::reader::assert_may_wait;
use crate::stats;
use crate::{HasField, grace_period};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::thread::{self, Thread};

/// Pending callbacks, newest first.
static QUEUE: AtomicPtr<RcuHead> = AtomicPtr::new(core::ptr::null_mut());
/// Callbacks pushed, and callbacks run; `rcu_barrier` compares them.
static PUSHED: AtomicU64 = AtomicU64::new(0);
static FINISHED: AtomicU64 = AtomicU64::new(0);
static WORKER: OnceLock<Thread> = OnceLock::new();

thread_local! {
    static IS_WORKER: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Queues `func` to run with `head` after a grace period.
///
/// Never blocks and never allocates (except that the first call in a process starts the
/// callback thread). Callable from any thread, inside a read-side critical section, and
/// from a callback.
///
/// # Safety
///
/// - `head` points to a valid `RcuHead` that is not queued already. From this call until
///   `func` starts, the queue owns the head: nothing else may read, write, move or free it,
///   or queue it again.
/// - `func` may be called with `head` on another thread (the callback thread), so
///   whatever it touches through `head` must be safe to send there.
///
/// ```
/// use rcu::RcuHead;
///
/// unsafe fn free_head(head: *mut RcuHead) {
///     // SAFETY: the head was leaked from a Box below and is not used again.
///     drop(unsafe { Box::from_raw(head) });
/// }
///
/// let head = Box::into_raw(Box::new(RcuHead::new()));
/// // SAFETY: the head is fresh and owned by the queue until `free_head` runs.
/// unsafe { rcu::call_rcu(head, free_head) };
/// rcu::rcu_barrier();
/// ```
pub unsafe fn call_rcu(head: *mut RcuHead, func: RcuCallbackFn) {
    // SAFETY: the caller hands over `head` exclusively until the callback runs.
    unsafe { *(*head).func.get() = Some(func) };
    stats::record_callbacks_queued(1);
    // Relaxed: counted before the push, so a barrier that sees the push sees the count.
    PUSHED.fetch_add(1, Ordering::Relaxed);

    let mut top = QUEUE.load(Ordering::Relaxed);
    loop {
        // SAFETY: exclusive access to `head` as above.
        unsafe { *(*head).next.get() = top };
        // Release pairs with the Acquire swap in `take_batch`: the callback thread sees
        // the head's fields and everything the caller wrote before queuing.
        match QUEUE.compare_exchange_weak(top, head, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => break,
            Err(current) => top = current,
        }
    }
    worker().unpark();
}

/// Drops `boxed` after a grace period, without blocking.
///
/// The box's own `RcuHead` carries it through the queue, so this never allocates.
/// `T: Send` because the drop runs on the callback thread; `'static` because the drop
/// happens at an unknown later time, after any borrow in `T` could have ended.
///
/// ```
/// use rcu::{HasField, RcuHead};
///
/// #[derive(HasField)]
/// #[has_field(crate = "rcu::has_field")]
/// struct Node {
///     value: String,
///     #[field]
///     head: RcuHead,
/// }
///
/// rcu::kfree_rcu(Box::new(Node { value: "gone".into(), head: RcuHead::new() }));
/// rcu::rcu_barrier();
/// ```
pub fn kfree_rcu<T: HasRcuHead + Send + 'static>(boxed: Box<T>) {
    unsafe fn drop_container<T: HasRcuHead>(head: *mut RcuHead) {
        // SAFETY: `head` came from `raw_get_field` on a leaked `Box<T>` in `kfree_rcu`, so
        // its container is that box, which nothing else owns any more.
        drop(unsafe { Box::from_raw(<T as HasField<T, RcuHead>>::field_container_of(head)) });
    }

    let container = Box::into_raw(boxed);
    // SAFETY: `container` points to a live `T` that this function owns.
    let head = unsafe { <T as HasField<T, RcuHead>>::raw_get_field(container) };
    // SAFETY: the head belongs to a box that nobody else can reach, so it is not queued,
    // and `drop_container::<T>` reclaims exactly that box; `T: Send` lets it run anywhere.
    unsafe { call_rcu(head, drop_container::<T>) };
}

/// Waits until every callback queued before the call has run.
///
/// Returns at once when no callback is pending. Callbacks queued by callbacks after this
/// call began are not waited for.
///
/// # Panics
///
/// Panics inside a read-side critical section (the callbacks wait for a grace period that
/// the caller's section blocks) and on the callback thread (it would wait for itself).
///
/// ```
/// rcu::rcu_barrier(); // nothing queued: returns at once
/// ```
#[track_caller]
pub fn rcu_barrier() {
    assert_may_wait("rcu_barrier()");
    assert!(
        !IS_WORKER.with(core::cell::Cell::get),
        "rcu_barrier() called from an RCU callback: it waits for the callback thread, which \
         is running this callback, so it would deadlock. Call it from another thread"
    );
    // Acquire pairs with the Release increment after a batch runs.
    if FINISHED.load(Ordering::Acquire) == PUSHED.load(Ordering::Relaxed) {
        return;
    }

    #[repr(C)]
    struct Barrier {
        head: RcuHead,
        done: AtomicBool,
        waiter: Thread,
    }

    unsafe fn signal(head: *mut RcuHead) {
        // SAFETY: `head` is the first field of a `#[repr(C)]` `Barrier` that its waiter
        // keeps alive until `done` is set.
        let barrier = unsafe { &*head.cast::<Barrier>() };
        let waiter = barrier.waiter.clone();
        // Release pairs with the Acquire load in the wait loop below. After this store the
        // waiter may free the barrier, so only the cloned handle is used.
        barrier.done.store(true, Ordering::Release);
        waiter.unpark();
    }

    let barrier = Barrier {
        head: RcuHead::new(),
        done: AtomicBool::new(false),
        waiter: thread::current(),
    };
    let head = (&raw const barrier.head).cast_mut();
    // SAFETY: the barrier lives on this stack frame until `done` is set, and its head is
    // fresh. The callback runs after every callback queued before it, in queue order.
    unsafe { call_rcu(head, signal) };
    while !barrier.done.load(Ordering::Acquire) {
        thread::park();
    }
}

fn worker() -> &'static Thread {
    WORKER.get_or_init(|| {
        thread::Builder::new()
            .name("rcu-callbacks".into())
            .spawn(run_worker)
            .expect("rcu: failed to spawn the callback thread `rcu-callbacks`")
            .thread()
            .clone()
    })
}

fn take_batch() -> *mut RcuHead {
    // Acquire pairs with the Release push in `call_rcu`.
    QUEUE.swap(core::ptr::null_mut(), Ordering::Acquire)
}

fn run_worker() {
    IS_WORKER.with(|flag| flag.set(true));
    loop {
        let mut newest = take_batch();
        if newest.is_null() {
            thread::park();
            continue;
        }

        // Every callback in the batch was queued before this point, so a grace period
        // that starts now serves all of them.
        grace_period::synchronize_rcu();

        // Reverse into queue order, oldest first.
        let mut oldest = core::ptr::null_mut::<RcuHead>();
        while !newest.is_null() {
            // SAFETY: the queue owns every head in the batch; this thread took the batch.
            let next = unsafe { *(*newest).next.get() };
            // SAFETY: as above.
            unsafe { *(*newest).next.get() = oldest };
            oldest = newest;
            newest = next;
        }

        let mut count = 0;
        let mut panicked = 0;
        while !oldest.is_null() {
            let head = oldest;
            // SAFETY: read before the callback runs, because the callback may free the head.
            oldest = unsafe { *(*head).next.get() };
            // SAFETY: `call_rcu` stored the callback before pushing.
            let func = unsafe { *(*head).func.get() }.expect("queued RcuHead has no callback");
            // AssertUnwindSafe: after a panic the head belongs to nobody, and this thread
            // touches nothing the callback could have left half-updated.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // SAFETY: the grace period above has ended, and `call_rcu`'s caller
                // promised that `func` may run with `head` here.
                unsafe { func(head) }
            }));
            count += 1;
            if let Err(payload) = result {
                panicked += 1;
                let message = payload
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("<non-string panic payload>");
                log::error!("rcu: an RCU callback panicked: {message}");
            }
        }
        stats::record_batch(count, panicked);
        // Release pairs with the Acquire load in `rcu_barrier`.
        FINISHED.fetch_add(count, Ordering::Release);
    }
}
