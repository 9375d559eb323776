//! The safe forms of `call_rcu` for boxed containers: `kfree_rcu` and `call_rcu_box`.
//!
//! Both leak the box, queue its own `RcuHead`, and rebuild the box from the head with
//! `field_container_of` when the callback runs. That keeps them free of allocation, and
//! the rebuilt pointer carries the provenance of the original box.

use super::{backpressure, call_rcu};
use crate::HasField;
use crate::head::{HasRcuHead, RcuCallbackFn, RcuHead};

/// Drops `boxed` after a grace period, without allocating.
///
/// Use it for an object that readers may still see: unpublish it first, then hand it
/// here, and it is dropped once every read-side critical section that could have reached
/// it has ended. The box's own [`RcuHead`] carries it through the queue.
///
/// The bounds follow from where and when the drop runs:
///
/// - `T: Send`, because the drop runs on the callback thread.
/// - `T: 'static`, because the drop runs at an unknown later time, after any borrow
///   inside `T` may have ended.
///
/// Never blocks inside a read-side critical section, inside a callback, or while the
/// thread holds an [`RcuList`](crate::RcuList) writer lock. Elsewhere it
/// waits for the callback thread when more callbacks are queued than the limit allows
/// (see [`set_callback_limit`](crate::set_callback_limit)). So do not call it while
/// holding a lock that `T`'s `Drop` takes: that drop may be one the wait is for.
///
/// A box still queued when the process exits is never dropped; call
/// [`rcu_barrier`](crate::rcu_barrier) first if its `Drop` must run.
///
/// ```
/// use rcu::{HasField, RcuHead};
/// use std::sync::atomic::{AtomicPtr, Ordering};
///
/// #[derive(HasField)]
/// #[has_field(crate = "rcu::has_field")]
/// struct Config {
///     name: String,
///     #[field]
///     head: RcuHead,
/// }
///
/// let new = |name: &str| Box::into_raw(Box::new(Config { name: name.into(), head: RcuHead::new() }));
/// let current = AtomicPtr::new(new("first"));
///
/// // Publish a replacement, then free the old value once no reader can see it.
/// let old = current.swap(new("second"), Ordering::AcqRel);
/// // SAFETY: `old` came from `Box::into_raw` and is no longer reachable through `current`.
/// rcu::kfree_rcu(unsafe { Box::from_raw(old) });
///
/// rcu::rcu_barrier();
/// // SAFETY: no reader is left, and the pointer came from `Box::into_raw`.
/// drop(unsafe { Box::from_raw(current.load(Ordering::Acquire)) });
/// ```
pub fn kfree_rcu<T: HasRcuHead + Send + 'static>(boxed: Box<T>) {
    unsafe fn drop_box<T: HasRcuHead>(head: *mut RcuHead) {
        // SAFETY: `queue_box::<T>` queued this head, which belongs to a leaked `Box<T>`
        // that nothing else owns, so the container is that box.
        drop(unsafe { Box::from_raw(<T as HasField<T, RcuHead>>::field_container_of(head)) });
    }

    // SAFETY: `drop_box::<T>` treats the head as the field of a leaked `Box<T>`, which is
    // what `queue_box` queues, and `T: Send` lets it run on the callback thread.
    unsafe { queue_box(boxed, drop_box::<T>) };
}

/// A boxed container that takes itself back after a grace period; see [`call_rcu_box`].
///
/// The bounds follow from where and when [`invoke`](RcuCallback::invoke) runs:
///
/// - [`HasRcuHead`], because the queue links the container through its own head.
/// - `Send`, because `invoke` runs on the callback thread.
/// - `'static`, because `invoke` runs at an unknown later time, after any borrow inside
///   the container may have ended.
///
/// ```
/// use rcu::{HasField, RcuCallback, RcuHead};
/// use std::sync::Mutex;
///
/// /// Returns retired buffers to a pool once no reader can still see them.
/// static POOL: Mutex<Vec<Box<Buffer>>> = Mutex::new(Vec::new());
///
/// #[derive(HasField)]
/// #[has_field(crate = "rcu::has_field")]
/// struct Buffer {
///     bytes: [u8; 64],
///     #[field]
///     head: RcuHead,
/// }
///
/// impl RcuCallback for Buffer {
///     fn invoke(self: Box<Self>) {
///         POOL.lock().unwrap().push(self);
///     }
/// }
///
/// rcu::call_rcu_box(Box::new(Buffer { bytes: [0; 64], head: RcuHead::new() }));
/// rcu::rcu_barrier();
/// assert_eq!(POOL.lock().unwrap().len(), 1);
/// ```
pub trait RcuCallback: HasRcuHead + Send + 'static {
    /// Runs on the callback thread once a grace period has passed since the container was
    /// queued. The container belongs to `invoke` again: it may drop it, reuse it or queue
    /// it once more.
    ///
    /// A panic here is caught, logged with `log::error!` and counted in
    /// [`Stats::callbacks_panicked`](crate::Stats::callbacks_panicked). Unwinding drops
    /// the box if `invoke` still owns it, as for any other local.
    ///
    /// `invoke` may take [`Guard`](crate::Guard)s, and must drop each before it returns.
    /// A guard it leaks keeps the callback thread inside a section for good, so no grace
    /// period can end again: the callback thread reports that with `log::error!` and
    /// stops.
    fn invoke(self: Box<Self>);
}

/// Hands `boxed` to [`RcuCallback::invoke`] after a grace period, without allocating.
///
/// The typed form of [`call_rcu`](crate::call_rcu): the callback finds its container
/// with `field_container_of`, and it gets the container back as the `Box` it was. The
/// rules on blocking are those of [`kfree_rcu`].
///
/// ```
/// use rcu::{HasField, RcuCallback, RcuHead};
/// use std::sync::mpsc;
///
/// #[derive(HasField)]
/// #[has_field(crate = "rcu::has_field")]
/// struct Retired {
///     id: u64,
///     done: mpsc::Sender<u64>,
///     #[field]
///     head: RcuHead,
/// }
///
/// impl RcuCallback for Retired {
///     fn invoke(self: Box<Self>) {
///         self.done.send(self.id).unwrap();
///     }
/// }
///
/// let (done, finished) = mpsc::channel();
/// rcu::call_rcu_box(Box::new(Retired { id: 7, done, head: RcuHead::new() }));
/// assert_eq!(finished.recv().unwrap(), 7);
/// ```
pub fn call_rcu_box<T: RcuCallback>(boxed: Box<T>) {
    unsafe fn invoke_box<T: RcuCallback>(head: *mut RcuHead) {
        // SAFETY: as in `kfree_rcu`: the head belongs to a leaked `Box<T>`.
        let boxed = unsafe { Box::from_raw(<T as HasField<T, RcuHead>>::field_container_of(head)) };
        boxed.invoke();
    }

    // SAFETY: `invoke_box::<T>` treats the head as the field of a leaked `Box<T>`, and
    // `T: Send` lets it run on the callback thread.
    unsafe { queue_box(boxed, invoke_box::<T>) };
}

/// Leaks `boxed` and queues its head with `func`, then applies backpressure.
///
/// # Safety
///
/// `func` must be sound to call on the callback thread with the head of a leaked
/// `Box<T>`, and it becomes the box's only owner.
#[inline]
unsafe fn queue_box<T: HasRcuHead>(boxed: Box<T>, func: RcuCallbackFn) {
    let container = Box::into_raw(boxed);
    // SAFETY: `container` points to a live `T` that this function owns; the head pointer
    // keeps the box's provenance.
    let head = unsafe { <T as HasField<T, RcuHead>>::raw_get_field(container) };
    // SAFETY: no other code can reach the leaked box, so its head is not queued, and the
    // caller vouches for `func`.
    unsafe { call_rcu(head, func) };
    backpressure::throttle();
}
