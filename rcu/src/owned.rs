//! Owning pointers that an [`Rcu`](crate::Rcu) can hold as a raw pointer.
//!
//! [`ForeignOwnable`] is the userspace counterpart of the kernel's trait of the same name:
//! it turns an owning pointer into a raw pointer that can sit in an atomic, and back.
//! [`DeferDrop`] marks the owning pointers whose pointee carries an [`RcuHead`], so that
//! they can be reclaimed after a grace period without blocking.

use crate::head::{HasRcuHead, RcuHead};
use crate::{HasField, call_rcu};
use std::sync::Arc;

/// An owning pointer that can be converted to a raw pointer and back.
///
/// While the pointer is in raw form, the pointee stays allocated and nobody may create a
/// `&mut` to it, so any number of readers may hold `&Target` borrows made by
/// [`borrow`](Self::borrow). The borrowed form is always `&'a Target`, which is what the
/// kernel's `Borrowed<'a>` is for `Box<T>` and `Arc<T>`.
///
/// # Safety
///
/// An implementation promises that:
/// - `into_raw` returns a non-null, aligned pointer to a `Target` that stays valid for
///   reads until `from_raw` is called with it;
/// - `from_raw(into_raw(p))` gives back an owning pointer equivalent to `p`;
/// - nothing but the owning pointer itself writes to the pointee outside of its
///   `UnsafeCell`s, so shared borrows from `borrow` never observe a write.
///
/// ```
/// use rcu::ForeignOwnable;
///
/// let raw = Box::new(5).into_raw();
/// // SAFETY: `raw` came from `into_raw` and nothing has reclaimed it.
/// assert_eq!(unsafe { <Box<i32> as ForeignOwnable>::borrow(raw) }, &5);
/// // SAFETY: `raw` came from `into_raw` and is taken back only here.
/// let boxed = unsafe { <Box<i32> as ForeignOwnable>::from_raw(raw) };
/// assert_eq!(*boxed, 5);
/// ```
pub unsafe trait ForeignOwnable: Sized {
    /// The type the raw pointer points to.
    type Target;

    /// Gives up ownership and returns the raw pointer, which is never null.
    fn into_raw(self) -> *const Self::Target;

    /// Takes back ownership of a pointer returned by [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    ///
    /// - `ptr` was returned by `Self::into_raw`, and no other `from_raw` has taken it back.
    /// - No borrow made by [`borrow`](Self::borrow) from `ptr` is used after this call.
    unsafe fn from_raw(ptr: *const Self::Target) -> Self;

    /// Borrows the pointee of a raw pointer for `'a`.
    ///
    /// # Safety
    ///
    /// `ptr` was returned by `Self::into_raw`, and `from_raw` is not called with it
    /// until `'a` has ended.
    unsafe fn borrow<'a>(ptr: *const Self::Target) -> &'a Self::Target;
}

// SAFETY: `Box::into_raw` never returns null, the box owns its pointee until
// `Box::from_raw`, and a box in raw form hands out no `&mut`.
unsafe impl<T> ForeignOwnable for Box<T> {
    type Target = T;

    fn into_raw(self) -> *const T {
        Box::into_raw(self)
    }

    unsafe fn from_raw(ptr: *const T) -> Self {
        // SAFETY: the caller passes a pointer from `Box::into_raw`, taken back once.
        unsafe { Box::from_raw(ptr.cast_mut()) }
    }

    unsafe fn borrow<'a>(ptr: *const T) -> &'a T {
        // SAFETY: the box is live for `'a` and nobody writes through it meanwhile.
        unsafe { &*ptr }
    }
}

// SAFETY: `Arc::into_raw` never returns null and keeps one strong count until
// `Arc::from_raw`, so the pointee stays allocated; an `Arc` never hands out `&mut` while
// another strong count exists, and the raw form holds one.
unsafe impl<T> ForeignOwnable for Arc<T> {
    type Target = T;

    fn into_raw(self) -> *const T {
        Arc::into_raw(self)
    }

    unsafe fn from_raw(ptr: *const T) -> Self {
        // SAFETY: the caller passes a pointer from `Arc::into_raw`, taken back once.
        unsafe { Arc::from_raw(ptr) }
    }

    unsafe fn borrow<'a>(ptr: *const T) -> &'a T {
        // SAFETY: the raw form owns a strong count for at least `'a`.
        unsafe { &*ptr }
    }
}

/// An owning pointer that can be dropped after a grace period without waiting for one.
///
/// Implemented for `Box<T>` where `T` has an [`RcuHead`] field (see
/// [`HasRcuHead`]) and for [`RcuBox<T>`](crate::RcuBox): the head carries the pointer
/// through the callback queue, as [`kfree_rcu`](crate::kfree_rcu) does, so queuing never
/// allocates. It is what [`Defer`](crate::Defer) needs, and what
/// [`RcuOld::defer_drop`](crate::RcuOld::defer_drop) uses.
///
/// # Safety
///
/// `defer_drop_raw` must drop the pointer only after a full grace period that starts after
/// the call, must not wait for that grace period, and must never block inside a read-side
/// critical section. The drop may run on another thread (the callback
/// thread), so the implementation must require whatever makes that sound, such as
/// `T: Send` for `Box<T>`.
///
/// ```
/// use rcu::{DeferDrop, ForeignOwnable, RcuBox};
///
/// let raw = RcuBox::new(String::from("retired")).into_raw();
/// // SAFETY: `raw` came from `into_raw` and is handed over once.
/// unsafe { <RcuBox<String> as DeferDrop>::defer_drop_raw(raw) };
/// rcu::rcu_barrier(); // the string has been dropped
/// ```
pub unsafe trait DeferDrop: ForeignOwnable + 'static {
    /// Drops the owning pointer `ptr` after a grace period, without waiting for it.
    ///
    /// Outside a read-side critical section the call may wait for the callback thread
    /// when the callback backlog exceeds [`callback_limit`](crate::callback_limit), as
    /// [`kfree_rcu`](crate::kfree_rcu) does. Inside one it never blocks.
    ///
    /// # Safety
    ///
    /// `ptr` was returned by `Self::into_raw` and this call takes it back, as
    /// [`ForeignOwnable::from_raw`] would. Readers inside a read-side critical section
    /// that began before the call may still hold borrows of the pointee.
    unsafe fn defer_drop_raw(ptr: *const Self::Target);
}

// SAFETY: `defer_box_drop` queues the drop with `call_rcu`, which runs it after a grace
// period that starts after the call. It never waits for that grace period, and its
// backpressure wait never happens inside a read-side critical section.
unsafe impl<T: HasRcuHead + Send + 'static> DeferDrop for Box<T> {
    unsafe fn defer_drop_raw(ptr: *const T) {
        // SAFETY: `ptr` came from `Box::into_raw` and the caller hands it over.
        unsafe { defer_box_drop(ptr.cast_mut()) }
    }
}

/// Drops the box `ptr` after a grace period, through its own `RcuHead`.
///
/// This is [`kfree_rcu`](crate::kfree_rcu) without building a `Box` first. Readers may
/// still hold `&T` borrows of the pointee, while a `Box` asserts unique access to it:
/// Miri's Stacked Borrows model treats making one as a write. So the box is rebuilt only
/// on the callback thread, after the grace period.
///
/// # Safety
///
/// `ptr` came from `Box::<T>::into_raw`, and the caller gives up ownership of it: nothing
/// but readers that are already inside a read-side critical section may use it any more.
pub(crate) unsafe fn defer_box_drop<T: HasRcuHead + Send + 'static>(ptr: *mut T) {
    unsafe fn drop_container<T: HasRcuHead>(head: *mut RcuHead) {
        // SAFETY: `head` was projected from a leaked `Box<T>` in `defer_box_drop`, so
        // its container is that box, which nothing else owns, and the grace period that
        // `call_rcu` waited for has ended every section that could still read it.
        drop(unsafe { Box::from_raw(<T as HasField<T, RcuHead>>::field_container_of(head)) });
    }

    // SAFETY: `ptr` points to a live `T`, and the projection keeps its provenance.
    let head = unsafe { <T as HasField<T, RcuHead>>::raw_get_field(ptr) };
    // SAFETY: the box belongs to this call, so its head is not queued. Readers never touch
    // the head, and `drop_container::<T>` reclaims exactly this box; `T: Send` lets it
    // run on the callback thread.
    unsafe { call_rcu(head, drop_container::<T>) };
    // Holds the backlog to `callback_limit()` as `kfree_rcu` does: outside a read-side
    // critical section a caller that outruns the callback thread waits for it.
    crate::callback::throttle();
}
