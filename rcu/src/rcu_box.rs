//! `RcuBox<T>`: a box whose contents stay readable for a grace period after it is dropped.

use crate::head::RcuHead;
use crate::owned::{DeferDrop, ForeignOwnable, defer_box_drop};
use crate::reader::Guard;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, offset_of};
use core::ops::Deref;
use core::ptr::NonNull;
use has_field::HasField;

/// A value with its own [`RcuHead`]: the allocation behind an [`RcuBox`].
///
/// `Box<RcuBoxInner<T>>` implements [`DeferDrop`], so it can also be used directly as the
/// owning pointer of an `Rcu<_, Defer>`; it dereferences to the value.
///
/// ```
/// use rcu::{Defer, Rcu, RcuBoxInner};
///
/// let ptr: Rcu<Box<RcuBoxInner<u8>>, Defer> = Rcu::from(Box::new(RcuBoxInner::new(1)));
/// let guard = rcu::read_lock();
/// assert_eq!(**ptr.dereference(&guard).unwrap(), 1);
/// ```
#[derive(HasField)]
pub struct RcuBoxInner<T> {
    #[field]
    head: RcuHead,
    value: T,
}

impl<T> RcuBoxInner<T> {
    /// Wraps `value` next to a fresh `RcuHead`.
    ///
    /// ```
    /// let inner = rcu::RcuBoxInner::new("x");
    /// assert_eq!(*inner, "x");
    /// ```
    pub const fn new(value: T) -> Self {
        RcuBoxInner {
            head: RcuHead::new(),
            value,
        }
    }
}

impl<T> Deref for RcuBoxInner<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for RcuBoxInner<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RcuBoxInner").field(&self.value).finish()
    }
}

/// A heap value that readers may borrow for up to a grace period after the box is dropped.
///
/// [`with_rcu`](Self::with_rcu) returns a borrow tied to a [`Guard`] instead of to the
/// box, and dropping the box frees the value through its own [`RcuHead`] after a grace
/// period, as [`kfree_rcu`](crate::kfree_rcu) does. Dropping never waits for a grace
/// period, never allocates, and is allowed inside a read-side critical section, where it
/// never blocks. Outside one it is subject to the same backlog limit as `kfree_rcu`
/// ([`set_callback_limit`](crate::set_callback_limit)).
///
/// The value is never mutable through the box: a borrow from `with_rcu` may be alive
/// while the owner holds the box, so a `&mut T` would alias it.
///
/// `T: Send + 'static` because the value is dropped later, on the callback thread.
///
/// ```
/// use rcu::RcuBox;
///
/// let boxed = RcuBox::new(String::from("hello"));
/// let guard = rcu::read_lock();
/// let text = boxed.with_rcu(&guard);
/// drop(boxed); // queued: `text` stays valid while the guard lives
/// assert_eq!(text, "hello");
/// ```
pub struct RcuBox<T: Send + 'static> {
    inner: NonNull<RcuBoxInner<T>>,
    /// The box owns an `RcuBoxInner<T>`, for the drop checker.
    _owns: PhantomData<RcuBoxInner<T>>,
}

// SAFETY: sending the box lets the receiver drop it (`T: Send`, required by the struct),
// and the previous owner may still read `&T` from `with_rcu` while the receiver reads its
// own borrows, so the value is shared between threads (`T: Sync`).
unsafe impl<T: Send + Sync + 'static> Send for RcuBox<T> {}

// SAFETY: a shared box hands out only `&T`, on any thread, so `T: Sync`. Dropping needs
// ownership, which `&RcuBox` does not give.
unsafe impl<T: Send + Sync + 'static> Sync for RcuBox<T> {}

impl<T: Send + 'static> RcuBox<T> {
    /// Allocates `value` next to a fresh `RcuHead`.
    ///
    /// ```
    /// let boxed = rcu::RcuBox::new([0_u8; 4]);
    /// assert_eq!(boxed.len(), 4);
    /// ```
    pub fn new(value: T) -> Self {
        let inner = Box::into_raw(Box::new(RcuBoxInner::new(value)));
        RcuBox {
            // SAFETY: `Box::into_raw` never returns null.
            inner: unsafe { NonNull::new_unchecked(inner) },
            _owns: PhantomData,
        }
    }

    /// Borrows the value for as long as `guard` lives, which may be longer than the box.
    ///
    /// ```
    /// use rcu::RcuBox;
    ///
    /// let guard = rcu::read_lock();
    /// let number = {
    ///     let boxed = RcuBox::new(42);
    ///     boxed.with_rcu(&guard)
    /// }; // the box is dropped here, the value lives on until the guard is dropped
    /// assert_eq!(*number, 42);
    /// ```
    pub fn with_rcu<'g>(&self, guard: &'g Guard) -> &'g T {
        let _ = guard;
        // SAFETY: the box is alive now, inside the guard's section, and its drop frees the
        // value only after a grace period that starts after the drop, which waits for this
        // section to end. Nothing writes to the value meanwhile, because the box hands
        // out no `&mut T`.
        unsafe { &(*self.inner.as_ptr()).value }
    }
}

impl<T: Send + 'static> Deref for RcuBox<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the box owns a live `RcuBoxInner<T>` and hands out no `&mut T`.
        unsafe { &(*self.inner.as_ptr()).value }
    }
}

impl<T: Send + 'static> Drop for RcuBox<T> {
    /// Frees the value after a grace period, without waiting for it.
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Box::into_raw` in `new`, and the box gives it up
        // here. Borrows from `with_rcu` belong to sections that began before this call.
        unsafe { defer_box_drop(self.inner.as_ptr()) };
    }
}

impl<T: Send + fmt::Debug + 'static> fmt::Debug for RcuBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RcuBox").field(&**self).finish()
    }
}

// SAFETY: the raw form is a pointer to the value inside the leaked `RcuBoxInner<T>`,
// derived from the allocation's own pointer so that it keeps provenance over the whole
// allocation; `from_raw` walks back by the value's offset. The box never writes to the
// value.
unsafe impl<T: Send + 'static> ForeignOwnable for RcuBox<T> {
    type Target = T;

    fn into_raw(self) -> *const T {
        let this = ManuallyDrop::new(self);
        // SAFETY: `inner` points to a live `RcuBoxInner<T>`; `&raw const` makes no
        // reference, so the result keeps the allocation's provenance.
        unsafe { &raw const (*this.inner.as_ptr()).value }
    }

    unsafe fn from_raw(ptr: *const T) -> Self {
        // SAFETY: `ptr` came from `into_raw`, so it points to the `value` field of a live
        // `RcuBoxInner<T>` with provenance over the whole of it.
        let inner = unsafe { ptr.byte_sub(offset_of!(RcuBoxInner<T>, value)) };
        RcuBox {
            // SAFETY: a field pointer minus its offset is the container, which is non-null.
            inner: unsafe { NonNull::new_unchecked(inner.cast::<RcuBoxInner<T>>().cast_mut()) },
            _owns: PhantomData,
        }
    }

    unsafe fn borrow<'a>(ptr: *const T) -> &'a T {
        // SAFETY: the caller keeps the box in raw form for `'a`, and it is never written.
        unsafe { &*ptr }
    }
}

// SAFETY: dropping an `RcuBox` frees its value through `call_rcu`, after a grace period
// that starts at the drop, without waiting for it.
unsafe impl<T: Send + 'static> DeferDrop for RcuBox<T> {
    unsafe fn defer_drop_raw(ptr: *const T) {
        // SAFETY: the caller hands over a pointer from `into_raw`.
        drop(unsafe { Self::from_raw(ptr) });
    }
}

#[cfg(test)]
mod tests;
