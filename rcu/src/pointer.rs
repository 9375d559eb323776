//! `Rcu<P>`, the RCU-protected pointer, and `RcuOld<P>`, a value it has unpublished.
//!
//! Readers load the pointer inside a read-side critical section and borrow the pointee for
//! as long as their [`Guard`] lives. Updaters publish a new value and get the old one back
//! as an [`RcuOld`], which readers may still see until a grace period has elapsed. The
//! reclaim policy, a type parameter, decides what happens to old values: [`Wait`] blocks
//! in `synchronize_rcu` before dropping them, [`Defer`] hands them to the callback thread
//! through the pointee's `RcuHead` and never waits for a grace period.

use crate::grace_period::{
    GpState, cond_synchronize_rcu, poll_state_synchronize_rcu, start_poll_synchronize_rcu,
};
use crate::owned::{DeferDrop, ForeignOwnable};
use crate::reader::{Guard, assert_may_wait, read_lock, wait_would_panic};
use crate::synchronize_rcu;
use core::fmt;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering};

mod sealed {
    pub trait Sealed {}
}

/// The reclaim policy of old values: [`Wait`] or [`Defer`].
///
/// Sealed: the pointer's soundness rests on the policy never dropping a value before a
/// grace period has elapsed.
///
/// ```
/// use rcu::{Defer, RcuBox, Reclaim, Wait};
///
/// fn blocks<P: rcu::ForeignOwnable, R: Reclaim<P>>() -> bool {
///     R::BLOCKS
/// }
/// assert!(blocks::<Box<u8>, Wait>());
/// assert!(!blocks::<RcuBox<u8>, Defer>());
/// ```
pub trait Reclaim<P: ForeignOwnable>: sealed::Sealed {
    /// `true` if reclaiming waits for a grace period in the calling thread.
    const BLOCKS: bool;

    /// Drops `ptr` after a grace period that starts after the call.
    ///
    /// # Safety
    ///
    /// `ptr` came from `P::into_raw`, is no longer reachable by new readers, and this call
    /// takes ownership of it.
    #[doc(hidden)]
    unsafe fn reclaim(ptr: NonNull<P::Target>, api: &'static str);
}

/// Reclaim policy that waits: old values are dropped after `synchronize_rcu`, on the
/// thread that drops the [`RcuOld`] or the [`Rcu`].
///
/// The default policy, and the only one available for pointers whose pointee has no
/// [`RcuHead`](crate::RcuHead), such as `Arc<T>`. Dropping inside a read-side critical
/// section panics, because the grace period would wait for the dropping thread itself.
///
/// ```
/// use std::sync::Arc;
///
/// let ptr: rcu::Rcu<Arc<u8>, rcu::Wait> = rcu::Rcu::new(Arc::new(1));
/// drop(ptr.swap(Arc::new(2))); // waits for a grace period
/// ```
#[derive(Debug)]
pub enum Wait {}

/// Reclaim policy that defers: old values go to the callback thread through their own
/// [`RcuHead`](crate::RcuHead), as with [`kfree_rcu`](crate::kfree_rcu), and are dropped
/// there after a grace period.
///
/// Dropping an [`RcuOld`] or an [`Rcu`] with this policy never waits for a grace period
/// and never blocks inside a read-side critical section, where it is allowed. Outside one,
/// a caller that outruns the callback thread waits for it once the callback backlog
/// exceeds [`callback_limit`](crate::callback_limit), which keeps memory bounded under a
/// flat-out updater; `set_callback_limit(usize::MAX)` turns that off. Available for
/// pointers that implement
/// [`DeferDrop`]: [`RcuBox<T>`](crate::RcuBox) and `Box<T>` where `T` has an `RcuHead`
/// field.
///
/// An old value still queued when the process exits is never dropped; call
/// [`rcu_barrier`](crate::rcu_barrier) first if its `Drop` must run.
///
/// ```
/// use rcu::{Defer, Rcu, RcuBox};
///
/// let ptr: Rcu<RcuBox<u8>, Defer> = Rcu::from(RcuBox::new(1));
/// let guard = rcu::read_lock();
/// drop(ptr.swap(RcuBox::new(2))); // queued for the callback thread, even in a section
/// drop(guard);
/// ```
#[derive(Debug)]
pub enum Defer {}

impl sealed::Sealed for Wait {}
impl sealed::Sealed for Defer {}

impl<P: ForeignOwnable> Reclaim<P> for Wait {
    const BLOCKS: bool = true;

    unsafe fn reclaim(ptr: NonNull<P::Target>, api: &'static str) {
        if std::thread::panicking() && wait_would_panic() {
            // Panicking again would abort the process, and waiting could deadlock, so the
            // value is leaked.
            crate::report::report_error!(
                "rcu: {api} ran while the thread was unwinding from a panic, inside an RCU \
                 read-side critical section or holding a list's writer lock that readers \
                 take inside sections: the value is leaked instead of waiting for a grace \
                 period, which could deadlock"
            );
            return;
        }
        assert_may_wait(api);
        synchronize_rcu();
        // SAFETY: the caller hands over `ptr`, which came from `P::into_raw`, and the grace
        // period above has ended every section that could still borrow it.
        drop(unsafe { P::from_raw(ptr.as_ptr()) });
    }
}

impl<P: DeferDrop> Reclaim<P> for Defer {
    const BLOCKS: bool = false;

    unsafe fn reclaim(ptr: NonNull<P::Target>, _api: &'static str) {
        // SAFETY: the caller hands over `ptr`, and `defer_drop_raw` keeps it until a grace
        // period that starts now has elapsed.
        unsafe { P::defer_drop_raw(ptr.as_ptr()) };
    }
}

/// An RCU-protected pointer to the pointee of an owning pointer `P`, or null.
///
/// `P` is `Box<T>`, `Arc<T>`, [`RcuBox<T>`](crate::RcuBox), or any other
/// [`ForeignOwnable`]. Readers call [`dereference`](Self::dereference) inside a read-side
/// critical section and get a `&T` that lives as long as their [`Guard`], even if an
/// updater replaces the value meanwhile. Every update returns the value it unpublished as
/// an [`RcuOld`], and that old value is dropped only after a grace period.
///
/// Updates come in two shapes:
/// - through `&self`, for many updater threads sharing an `Arc<Rcu<P>>`:
///   [`swap`](Self::swap), [`take`](Self::take),
///   [`compare_exchange`](Self::compare_exchange) and the retry loop
///   [`update`](Self::update). Each old value goes to exactly one caller.
/// - through `Pin<&mut Self>`, the kernel's shape for an updater that has exclusive
///   access: [`replace`](Self::replace) and [`copy_update`](Self::copy_update). They need
///   no read-modify-write instruction. `Rcu` is `Unpin`, so `Pin::new(&mut rcu)` builds the
///   argument.
///
/// The second parameter `R` is the reclaim policy. With the default, [`Wait`], dropping
/// an old value (or the `Rcu` itself) waits for a grace period and panics inside a
/// read-side critical section. With [`Defer`], old values go to the callback thread and
/// no drop waits for a grace period; [`DeferredRcu<T>`] names that form for an
/// [`RcuBox`](crate::RcuBox).
///
/// ```
/// use std::sync::Arc;
/// use std::thread;
///
/// let config = Arc::new(rcu::Rcu::new(Box::new(String::from("v1"))));
///
/// let reader = {
///     let config = Arc::clone(&config);
///     thread::spawn(move || {
///         let guard = rcu::read_lock();
///         let value = config.dereference(&guard).unwrap();
///         assert!(value == "v1" || value == "v2");
///     })
/// };
///
/// let old = config.swap(Box::new(String::from("v2"))).unwrap();
/// assert_eq!(*old.synchronize(), "v1"); // waits for the reader, then hands the box back
/// reader.join().unwrap();
/// ```
pub struct Rcu<P: ForeignOwnable, R: Reclaim<P> = Wait> {
    ptr: AtomicPtr<P::Target>,
    /// Owns a `P`; `*const` keeps `Rcu` from being `Send` or `Sync` except through the
    /// impls below, whose bounds include the pointee's `Sync`.
    _owns: PhantomData<(P, *const P::Target)>,
    _policy: PhantomData<fn() -> R>,
}

/// The non-blocking RCU pointer: an [`Rcu`] over an [`RcuBox<T>`](crate::RcuBox) with
/// the [`Defer`] policy. Neither its updates nor its drop ever wait for a grace period.
///
/// ```
/// use rcu::{DeferredRcu, RcuBox};
///
/// let ptr = DeferredRcu::from(RcuBox::new(1_u32));
/// let guard = rcu::read_lock();
/// let old = ptr.swap(RcuBox::new(2));
/// drop(old); // queued for the callback thread: fine inside the section
/// assert_eq!(ptr.dereference(&guard), Some(&2));
/// ```
pub type DeferredRcu<T> = Rcu<crate::RcuBox<T>, Defer>;

// SAFETY: moving an `Rcu` to another thread moves its `P`, which that thread may drop, so
// `P: Send`. Threads that dereferenced it before the move may still hold `&Target` while
// the new owner reads, so `Target: Sync`.
unsafe impl<P, R> Send for Rcu<P, R>
where
    P: ForeignOwnable + Send,
    P::Target: Sync,
    R: Reclaim<P>,
{
}

// SAFETY: a shared `Rcu` lets every thread borrow `&Target` (so `Target: Sync`) and take
// out old values as `RcuOld<P>`, which it may drop (so `P: Send`).
unsafe impl<P, R> Sync for Rcu<P, R>
where
    P: ForeignOwnable + Send,
    P::Target: Sync,
    R: Reclaim<P>,
{
}

/// Moving an `Rcu` moves only the raw pointer, never the pointee, so it is `Unpin` even
/// when `P` is not, and `Pin::new(&mut rcu)` reaches the kernel-shaped updates.
impl<P: ForeignOwnable, R: Reclaim<P>> Unpin for Rcu<P, R> {}

impl<P: ForeignOwnable> Rcu<P> {
    /// Returns a pointer that owns `value`, with the default [`Wait`] policy.
    ///
    /// Other policies build with [`From`] instead, like `Rcu::<_, Defer>::from(value)`,
    /// because Rust does not fall back to a default type parameter when it infers one.
    ///
    /// ```
    /// let ptr = rcu::Rcu::new(Box::new(3));
    /// assert_eq!(ptr.dereference(&rcu::read_lock()), Some(&3));
    /// ```
    pub fn new(value: P) -> Self {
        Self::from(value)
    }
}

impl<P: ForeignOwnable, R: Reclaim<P>> From<P> for Rcu<P, R> {
    /// Returns a pointer that owns `value`, with any policy.
    ///
    /// ```
    /// use rcu::{DeferredRcu, RcuBox};
    ///
    /// let ptr = DeferredRcu::from(RcuBox::new(3));
    /// assert_eq!(ptr.dereference(&rcu::read_lock()), Some(&3));
    /// ```
    fn from(value: P) -> Self {
        // SAFETY: `into_raw` hands over ownership, and `Rcu` takes it.
        unsafe { Self::from_raw(value.into_raw()) }
    }
}

impl<P: ForeignOwnable, R: Reclaim<P>> Rcu<P, R> {
    /// Returns a null pointer.
    ///
    /// ```
    /// let ptr = rcu::Rcu::<Box<u8>>::null();
    /// assert_eq!(ptr.dereference(&rcu::read_lock()), None);
    /// ```
    pub const fn null() -> Self {
        Rcu {
            ptr: AtomicPtr::new(ptr::null_mut()),
            _owns: PhantomData,
            _policy: PhantomData,
        }
    }

    /// Borrows the current value for as long as `guard` lives, or returns `None` if the
    /// pointer is null.
    ///
    /// The borrow stays valid even if an updater replaces the value or drops this `Rcu`
    /// meanwhile: the old value is reclaimed only after a grace period, which waits for
    /// the guard's section to end. Two calls under one guard may return different values.
    ///
    /// ```
    /// let ptr = rcu::Rcu::new(Box::new([1, 2, 3]));
    /// let guard = rcu::read_lock();
    /// let values = ptr.dereference(&guard).unwrap();
    /// assert_eq!(values[1], 2);
    /// ```
    #[inline]
    pub fn dereference<'g>(&self, guard: &'g Guard) -> Option<&'g P::Target> {
        let _ = guard;
        // Acquire pairs with the Release of the store, swap or compare-exchange that
        // published the pointer, so the reader sees the pointee fully initialized. The
        // kernel's rcu_dereference() is a relaxed load that relies on the address
        // dependency from this load to the reads through the pointer. The Rust memory
        // model honours no address dependencies, so a relaxed load here would let those
        // reads race with the writes that built the value. On x86 and Arm64 (LDAPR) an
        // Acquire load costs about as much as a plain one.
        let ptr = self.ptr.load(Ordering::Acquire);
        if ptr.is_null() {
            return None;
        }
        // SAFETY: `ptr` came from `P::into_raw` and was reachable inside the guard's
        // section, so whoever unpublishes it reclaims it only after a grace period, which
        // waits for this section to end, and `'g` ends with the section.
        Some(unsafe { P::borrow(ptr) })
    }

    /// Publishes `new` and returns the old value, or `None` if the pointer was null.
    ///
    /// ```
    /// let ptr = rcu::Rcu::new(Box::new(1));
    /// let old = ptr.swap(Box::new(2)).unwrap();
    /// assert_eq!(*old.synchronize(), 1);
    /// ```
    pub fn swap(&self, new: P) -> Option<RcuOld<P, R>> {
        // SAFETY: `new` was just given up by `into_raw`.
        unsafe { self.swap_raw(new.into_raw().cast_mut()) }
    }

    /// Sets the pointer to null and returns the old value, or `None` if it was null.
    ///
    /// ```
    /// let ptr = rcu::Rcu::new(Box::new(1));
    /// assert!(ptr.take().is_some());
    /// assert!(ptr.take().is_none());
    /// ```
    pub fn take(&self) -> Option<RcuOld<P, R>> {
        // SAFETY: null owns nothing.
        unsafe { self.swap_raw(ptr::null_mut()) }
    }

    /// # Safety
    ///
    /// `new` is null or an owned pointer from `P::into_raw`, handed over to `self`.
    unsafe fn swap_raw(&self, new: *mut P::Target) -> Option<RcuOld<P, R>> {
        // Release publishes `new` to readers: pairs with the Acquire in `dereference`.
        // Acquire pairs with the Release that published the old value, so this thread
        // owns it fully and may drop it later.
        let old = self.ptr.swap(new, Ordering::AcqRel);
        // SAFETY: the swap took `old` out atomically, so this caller alone owns it.
        NonNull::new(old).map(|old| unsafe { RcuOld::from_non_null(old) })
    }

    /// Publishes `new` if the pointer still points to `current`, and returns the old value.
    ///
    /// `current` is usually a borrow from [`dereference`](Self::dereference); `None`
    /// expects a null pointer. On failure `new` comes back unpublished. The comparison is
    /// by address. A value that `current` borrows cannot be freed while the borrow lives,
    /// so no other value can take its address in between. The same address comes back
    /// only if the same value is published again (for example one `Arc` stored twice),
    /// and then `current` still describes it.
    ///
    /// ```
    /// let ptr = rcu::Rcu::new(Box::new(1));
    /// let guard = rcu::read_lock();
    /// let seen = ptr.dereference(&guard);
    /// let old = ptr.compare_exchange(seen, Box::new(2)).unwrap();
    /// assert!(old.is_some());
    ///
    /// // `seen` is stale now, so a second exchange against it fails.
    /// let rejected = ptr.compare_exchange(seen, Box::new(3)).unwrap_err();
    /// assert_eq!(*rejected, 3);
    /// drop(guard);
    /// drop(old);
    /// ```
    pub fn compare_exchange(
        &self,
        current: Option<&P::Target>,
        new: P,
    ) -> Result<Option<RcuOld<P, R>>, P> {
        let current = current.map_or(ptr::null_mut(), |value| ptr::from_ref(value).cast_mut());
        let new = new.into_raw().cast_mut();
        // Success: Release publishes `new` (pairs with the Acquire in `dereference`), and
        // Acquire pairs with the Release that published the old value, which this caller
        // now owns. Failure: nothing is read through the returned pointer.
        match self
            .ptr
            .compare_exchange(current, new, Ordering::AcqRel, Ordering::Relaxed)
        {
            // SAFETY: the exchange took `old` out atomically, so this caller alone owns it.
            Ok(old) => Ok(NonNull::new(old).map(|old| unsafe { RcuOld::from_non_null(old) })),
            // SAFETY: `new` was never published, so this caller still owns it alone.
            Err(_) => Err(unsafe { P::from_raw(new) }),
        }
    }

    /// Replaces the value with one that `f` builds from a borrow of the current value,
    /// retrying until no other updater has published in between, and returns the old value.
    ///
    /// This is `copy_update` for many updaters sharing `&self`: `f` may run more than once,
    /// and each value it returns that loses the race is dropped at once (it was never
    /// published). `f` runs inside a read-side critical section, so it must not wait for a
    /// grace period.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let counter = Arc::new(rcu::Rcu::new(Box::new(0_u64)));
    /// let workers: Vec<_> = (0..4)
    ///     .map(|_| {
    ///         let counter = Arc::clone(&counter);
    ///         std::thread::spawn(move || {
    ///             for _ in 0..10 {
    ///                 let old = counter.update(|current| Box::new(current.unwrap() + 1));
    ///                 drop(old);
    ///             }
    ///         })
    ///     })
    ///     .collect();
    /// for worker in workers {
    ///     worker.join().unwrap();
    /// }
    /// assert_eq!(counter.dereference(&rcu::read_lock()), Some(&40));
    /// ```
    pub fn update<F>(&self, mut f: F) -> Option<RcuOld<P, R>>
    where
        F: FnMut(Option<&P::Target>) -> P,
    {
        let guard = read_lock();
        // Acquire pairs with the Release that published the value, which `f` reads.
        let mut current = self.ptr.load(Ordering::Acquire);
        let old = loop {
            // SAFETY: `current` was loaded inside the guard's section, as in `dereference`.
            let borrowed = NonNull::new(current).map(|ptr| unsafe { P::borrow(ptr.as_ptr()) });
            let new = f(borrowed).into_raw().cast_mut();

            // Success: as in `compare_exchange`. Failure: Acquire, because the next round
            // hands the value another updater published to `f`.
            match self
                .ptr
                .compare_exchange(current, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(old) => break old,
                Err(actual) => {
                    // SAFETY: `new` was never published, so this thread still owns it.
                    drop(unsafe { P::from_raw(new) });
                    current = actual;
                }
            }
        };
        drop(guard);

        // SAFETY: the exchange took `old` out atomically, so this caller alone owns it.
        NonNull::new(old).map(|old| unsafe { RcuOld::from_non_null(old) })
    }

    /// Publishes `new` and returns the old value, for an updater with exclusive access.
    ///
    /// The kernel's `Rcu::replace`. Readers may still hold borrows of the old value, which
    /// is why it comes back as an [`RcuOld`].
    ///
    /// ```
    /// use std::pin::Pin;
    ///
    /// let mut ptr = rcu::Rcu::new(Box::new('a'));
    /// let old = Pin::new(&mut ptr).replace(Box::new('b'));
    /// assert_eq!(*old.unwrap().synchronize(), 'a');
    /// ```
    pub fn replace(self: Pin<&mut Self>, new: P) -> Option<RcuOld<P, R>> {
        let this = self.get_mut();
        let new = new.into_raw().cast_mut();
        // Relaxed: `&mut self` excludes other updaters, so the value read is the one this
        // thread published or received with the `Rcu`.
        let old = this.ptr.load(Ordering::Relaxed);
        // Release publishes `new`: pairs with the Acquire in `dereference`.
        this.ptr.store(new, Ordering::Release);
        // SAFETY: `&mut self` excludes other updaters, so nobody else took `old` out.
        NonNull::new(old).map(|old| unsafe { RcuOld::from_non_null(old) })
    }

    /// Publishes the value that `f` builds from a borrow of the current one, and returns
    /// the old value, for an updater with exclusive access.
    ///
    /// The kernel's `Rcu::copy_update`. `f` runs once, outside any read-side critical
    /// section: exclusive access keeps the current value alive while `f` reads it.
    ///
    /// ```
    /// use std::pin::Pin;
    ///
    /// let mut ptr = rcu::Rcu::new(Box::new(vec![1, 2]));
    /// let old = Pin::new(&mut ptr).copy_update(|current| {
    ///     let mut next = current.unwrap().clone();
    ///     next.push(3);
    ///     Box::new(next)
    /// });
    /// assert_eq!(ptr.dereference(&rcu::read_lock()).unwrap(), &[1, 2, 3]);
    /// assert_eq!(*old.unwrap().synchronize(), [1, 2]);
    /// ```
    pub fn copy_update<F>(self: Pin<&mut Self>, f: F) -> Option<RcuOld<P, R>>
    where
        F: FnOnce(Option<&P::Target>) -> P,
    {
        let this = self.get_mut();
        // Relaxed: as in `replace`.
        let current = this.ptr.load(Ordering::Relaxed);
        // SAFETY: `&mut self` excludes other updaters, so nobody can unpublish and reclaim
        // `current` while `f` borrows it.
        let new = f(NonNull::new(current).map(|ptr| unsafe { P::borrow(ptr.as_ptr()) }));
        Pin::new(this).replace(new)
    }

    /// Gives up ownership of the value and returns it as a raw pointer, null if the
    /// pointer was null, without waiting for a grace period.
    ///
    /// Readers that dereferenced the pointer before may still hold borrows, so the raw
    /// pointer must be reclaimed only after a grace period: with
    /// [`RcuOld::from_raw`] for example, or by publishing it again with
    /// [`Rcu::from_raw`].
    ///
    /// ```
    /// let ptr = rcu::Rcu::new(Box::new(9));
    /// let raw = ptr.into_raw();
    /// // SAFETY: `raw` came from `into_raw` of an `Rcu` of the same type, once.
    /// let ptr = unsafe { rcu::Rcu::<Box<i32>>::from_raw(raw) };
    /// assert_eq!(ptr.dereference(&rcu::read_lock()), Some(&9));
    /// ```
    pub fn into_raw(self) -> *const P::Target {
        let this = core::mem::ManuallyDrop::new(self);
        // Relaxed: owning `self` means no other thread can update it.
        this.ptr.load(Ordering::Relaxed)
    }

    /// Builds a pointer that owns `ptr`, or a null pointer if `ptr` is null.
    ///
    /// # Safety
    ///
    /// - `ptr` is null, or came from `P::into_raw` (directly or through
    ///   [`Rcu::into_raw`] or [`RcuOld::into_raw`]), and the returned `Rcu` takes it over:
    ///   nothing else reclaims it.
    /// - If readers may still hold borrows of it from an earlier publication, it is not
    ///   reclaimed before a grace period. The returned `Rcu` ensures that itself.
    ///
    /// ```
    /// let raw = rcu::Rcu::new(Box::new(3)).into_raw();
    /// // SAFETY: `raw` came from `Rcu::into_raw` of the same pointer type, once.
    /// let ptr = unsafe { rcu::Rcu::<Box<i32>>::from_raw(raw) };
    /// assert_eq!(ptr.dereference(&rcu::read_lock()), Some(&3));
    /// ```
    pub const unsafe fn from_raw(ptr: *const P::Target) -> Self {
        Rcu {
            ptr: AtomicPtr::new(ptr.cast_mut()),
            _owns: PhantomData,
            _policy: PhantomData,
        }
    }
}

impl<P: ForeignOwnable, R: Reclaim<P>> Default for Rcu<P, R> {
    /// Returns a null pointer.
    fn default() -> Self {
        Self::null()
    }
}

impl<P: ForeignOwnable, R: Reclaim<P>> Drop for Rcu<P, R> {
    /// Reclaims the value according to the policy `R`.
    ///
    /// Readers may still hold borrows from [`dereference`](Self::dereference), whose
    /// lifetime is tied to their guard and not to the `Rcu`. With [`Wait`] the drop waits
    /// for a grace period, and it panics inside a read-side critical section even when the
    /// pointer is null, so that the mistake shows up at once. With [`Defer`] it queues the
    /// value for the callback thread.
    fn drop(&mut self) {
        if R::BLOCKS && !std::thread::panicking() {
            assert_may_wait("Drop for rcu::Rcu<P, Wait>");
        }
        let ptr = *self.ptr.get_mut();
        if let Some(ptr) = NonNull::new(ptr) {
            // SAFETY: `&mut self` in drop means the pointer is unpublished, and this `Rcu`
            // owned it.
            unsafe { R::reclaim(ptr, "Drop for rcu::Rcu<P, Wait>") };
        }
    }
}

impl<P, R> fmt::Debug for Rcu<P, R>
where
    P: ForeignOwnable,
    R: Reclaim<P>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Relaxed: only the address is printed, nothing is read through it.
        f.debug_tuple("Rcu")
            .field(&self.ptr.load(Ordering::Relaxed))
            .finish()
    }
}

/// A value that an [`Rcu`] has unpublished, which readers may still see.
///
/// Returned by every update. New readers can no longer reach it, but readers that
/// dereferenced it earlier may hold borrows until their sections end. So its owner
/// cannot use it until a grace period has elapsed:
/// - [`synchronize`](Self::synchronize) waits for one and returns the owning pointer;
/// - dropping it reclaims it with the policy `R`: [`Wait`] waits for a grace period and
///   then drops the value, [`Defer`] queues it for the callback thread;
/// - [`defer_drop`](Self::defer_drop) queues it for the callback thread under either
///   policy, where the pointee has an [`RcuHead`](crate::RcuHead);
/// - [`start_poll`](Self::start_poll), [`poll`](Self::poll) and
///   [`try_into_inner`](Self::try_into_inner) hand the owning pointer back without
///   blocking, once a grace period has elapsed since the poll started.
///
/// ```
/// let ptr = rcu::Rcu::new(Box::new(1));
/// let old = ptr.swap(Box::new(2)).unwrap();
/// drop(old); // waits for a grace period, then drops the box
/// ```
#[must_use = "dropping an RcuOld with the Wait policy waits for a grace period; \
              bind it to choose when"]
pub struct RcuOld<P: ForeignOwnable, R: Reclaim<P> = Wait> {
    ptr: NonNull<P::Target>,
    /// The grace-period state taken by the first poll. It is taken after the value was
    /// unpublished, so once it reads as completed no reader can still hold the value.
    poll_state: Option<GpState>,
    _owns: PhantomData<P>,
    _policy: PhantomData<fn() -> R>,
}

// SAFETY: as for `Rcu`: the new owner may drop the `P` (`P: Send`) while readers on other
// threads still hold `&Target` (`Target: Sync`).
unsafe impl<P, R> Send for RcuOld<P, R>
where
    P: ForeignOwnable + Send,
    P::Target: Sync,
    R: Reclaim<P>,
{
}

// SAFETY: a shared `RcuOld` gives access to nothing but its address.
unsafe impl<P: ForeignOwnable, R: Reclaim<P>> Sync for RcuOld<P, R> {}

impl<P: ForeignOwnable, R: Reclaim<P>> RcuOld<P, R> {
    /// # Safety
    ///
    /// `ptr` came from `P::into_raw`, is unpublished, and the caller hands it over.
    unsafe fn from_non_null(ptr: NonNull<P::Target>) -> Self {
        RcuOld {
            ptr,
            poll_state: None,
            _owns: PhantomData,
            _policy: PhantomData,
        }
    }

    /// Waits for a grace period, then returns the owning pointer.
    ///
    /// # Panics
    ///
    /// Panics inside a read-side critical section: the grace period would wait for the
    /// caller's own section.
    ///
    /// ```
    /// let ptr = rcu::Rcu::new(Box::new(String::from("old")));
    /// let old = ptr.swap(Box::new(String::from("new"))).unwrap();
    /// let mut reused = old.synchronize(); // no reader can see it any more
    /// reused.push_str("er");
    /// assert_eq!(*reused, "older");
    /// ```
    #[track_caller]
    pub fn synchronize(self) -> P {
        assert_may_wait("rcu::RcuOld::synchronize()");
        match self.poll_state {
            // A poll already started a grace period for this value: wait only if it has
            // not ended yet.
            Some(state) => cond_synchronize_rcu(state),
            None => synchronize_rcu(),
        }
        // SAFETY: the grace period has ended every section that could borrow the value,
        // and `into_raw` hands over this `RcuOld`'s ownership.
        unsafe { P::from_raw(self.into_raw()) }
    }

    /// Makes sure a grace period will elapse for this value, without waiting for it.
    ///
    /// The first call takes a polled grace-period state with
    /// [`start_poll_synchronize_rcu`], which also starts a grace period on the crate's
    /// background thread. Later calls do nothing. It may be called inside a read-side
    /// critical section.
    ///
    /// ```
    /// let ptr = rcu::Rcu::new(Box::new(1));
    /// let mut old = ptr.swap(Box::new(2)).unwrap();
    /// old.start_poll();
    /// // ... other work while the grace period runs ...
    /// assert_eq!(*old.synchronize(), 1); // waits only if it has not ended yet
    /// ```
    pub fn start_poll(&mut self) {
        if self.poll_state.is_none() {
            self.poll_state = Some(start_poll_synchronize_rcu());
        }
    }

    /// Returns `true` once a full grace period has elapsed since the first poll of this
    /// value, starting that poll if needed. A `true` result is final. Never waits for a
    /// grace period.
    ///
    /// ```
    /// let ptr = rcu::Rcu::new(Box::new(1));
    /// let mut old = ptr.swap(Box::new(2)).unwrap();
    /// while !old.poll() {
    ///     std::thread::yield_now();
    /// }
    /// let reused = old.try_into_inner().unwrap(); // no wait: the poll completed
    /// assert_eq!(*reused, 1);
    /// ```
    pub fn poll(&mut self) -> bool {
        self.start_poll();
        self.poll_state.is_some_and(poll_state_synchronize_rcu)
    }

    /// Returns the owning pointer if a full grace period has elapsed since the first poll
    /// of this value, or the value back otherwise. Never waits for a grace period.
    ///
    /// The first call starts the poll, so it usually returns `Err`.
    ///
    /// ```
    /// let ptr = rcu::Rcu::new(Box::new(String::from("old")));
    /// let mut old = ptr.swap(Box::new(String::from("new"))).unwrap();
    /// let reused = loop {
    ///     match old.try_into_inner() {
    ///         Ok(boxed) => break boxed,
    ///         Err(pending) => {
    ///             old = pending;
    ///             std::thread::yield_now();
    ///         }
    ///     }
    /// };
    /// assert_eq!(*reused, "old");
    /// ```
    pub fn try_into_inner(mut self) -> Result<P, Self> {
        if !self.poll() {
            return Err(self);
        }
        // SAFETY: a full grace period has elapsed since a state taken after the value was
        // unpublished, so no reader can still borrow it, and `into_raw` hands over this
        // `RcuOld`'s ownership.
        Ok(unsafe { P::from_raw(self.into_raw()) })
    }

    /// Queues the value for the callback thread, which drops it after a grace period.
    /// Never waits for a grace period and never blocks inside a read-side critical
    /// section; see [`Defer`] for the backlog limit outside one.
    ///
    /// This is [`kfree_rcu`](crate::kfree_rcu) for an unpublished value, under either
    /// policy.
    ///
    /// ```
    /// use rcu::RcuBox;
    ///
    /// let ptr = rcu::Rcu::new(RcuBox::new(1)); // the Wait policy
    /// let guard = rcu::read_lock();
    /// ptr.swap(RcuBox::new(2)).unwrap().defer_drop();
    /// # drop(guard);
    /// ```
    pub fn defer_drop(self)
    where
        P: DeferDrop,
    {
        // SAFETY: `into_raw` hands over ownership of the unpublished value.
        unsafe { P::defer_drop_raw(self.into_raw()) }
    }

    /// Gives up ownership and returns the raw pointer, without waiting.
    ///
    /// The pointer must still be reclaimed only after a grace period, for example by
    /// [`RcuOld::from_raw`].
    ///
    /// ```
    /// let ptr = rcu::Rcu::new(Box::new(4));
    /// let raw = ptr.take().unwrap().into_raw();
    /// // SAFETY: `raw` came from `RcuOld::into_raw` of the same pointer type, once.
    /// let old = unsafe { rcu::RcuOld::<Box<i32>>::from_raw(raw) };
    /// assert_eq!(*old.synchronize(), 4);
    /// ```
    pub fn into_raw(self) -> *const P::Target {
        let this = core::mem::ManuallyDrop::new(self);
        this.ptr.as_ptr()
    }

    /// Takes over a raw pointer that has been unpublished from a data structure, so that
    /// it is reclaimed after a grace period.
    ///
    /// This is the reclaim step for structures that keep RCU-protected pointers in their
    /// own atomics (a hash map's buckets, a tree's children): unlink the node, then wrap it.
    ///
    /// # Safety
    ///
    /// - `ptr` came from `P::into_raw` (directly or through [`Rcu::into_raw`] or
    ///   [`RcuOld::into_raw`]), and the caller hands over its ownership.
    /// - No new reader can reach `ptr`: every atomic that published it has been changed
    ///   before this call, in the same thread or one that synchronizes with it.
    ///
    /// # Panics
    ///
    /// Panics if `ptr` is null.
    ///
    /// ```
    /// use rcu::ForeignOwnable;
    /// use std::sync::atomic::{AtomicPtr, Ordering};
    ///
    /// let slot = AtomicPtr::new(Box::new(8_u8).into_raw().cast_mut());
    /// let unlinked = slot.swap(std::ptr::null_mut(), Ordering::AcqRel);
    /// // SAFETY: the swap unpublished the pointer, which came from `Box::into_raw`.
    /// drop(unsafe { rcu::RcuOld::<Box<u8>>::from_raw(unlinked) });
    /// ```
    #[track_caller]
    pub unsafe fn from_raw(ptr: *const P::Target) -> Self {
        let ptr = NonNull::new(ptr.cast_mut()).expect("rcu::RcuOld::from_raw: null pointer");
        // SAFETY: the caller's contract is the same as `from_non_null`'s.
        unsafe { Self::from_non_null(ptr) }
    }
}

impl<P: ForeignOwnable, R: Reclaim<P>> Drop for RcuOld<P, R> {
    /// Reclaims the value with the policy `R`.
    ///
    /// With [`Wait`] this waits for a grace period and panics inside a read-side critical
    /// section (leaking the value). With [`Defer`] it never waits for a grace period.
    fn drop(&mut self) {
        // SAFETY: this `RcuOld` owns the unpublished value and is not used again.
        unsafe { R::reclaim(self.ptr, "Drop for rcu::RcuOld<P, Wait>") };
    }
}

impl<P: ForeignOwnable, R: Reclaim<P>> fmt::Debug for RcuOld<P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RcuOld").field(&self.ptr).finish()
    }
}

/// Borrows the pointee of a raw pointer for as long as `guard` lives.
///
/// The raw counterpart of [`Rcu::dereference`], for structures that keep their own
/// atomic pointers to values made by [`ForeignOwnable::into_raw`].
///
/// # Safety
///
/// - `ptr` came from `P::into_raw` for some owning pointer `P` whose `Target` is `T`.
/// - It was loaded inside the guard's read-side critical section, with `Acquire` (or
///   stronger) from an atomic that published it with `Release` (or stronger).
/// - Whoever unpublishes it reclaims it only after a grace period (with [`RcuOld`],
///   [`call_rcu`](crate::call_rcu) or [`synchronize_rcu`](crate::synchronize_rcu)), and
///   nobody writes to it outside its `UnsafeCell`s meanwhile.
///
/// # Panics
///
/// Panics if `ptr` is null.
///
/// ```
/// use rcu::ForeignOwnable;
/// use std::sync::atomic::{AtomicPtr, Ordering};
///
/// let slot = AtomicPtr::new(Box::new(5_u32).into_raw().cast_mut());
///
/// let guard = rcu::read_lock();
/// // Acquire pairs with the Release of the store that published the pointer.
/// let raw = slot.load(Ordering::Acquire);
/// // SAFETY: loaded under `guard` from a slot whose values are reclaimed after a grace
/// // period (below).
/// let value = unsafe { rcu::rcu_borrow(raw, &guard) };
/// assert_eq!(*value, 5);
/// drop(guard);
///
/// let unlinked = slot.swap(std::ptr::null_mut(), Ordering::AcqRel);
/// // SAFETY: the swap unpublished the pointer, which came from `Box::into_raw`.
/// drop(unsafe { rcu::RcuOld::<Box<u32>>::from_raw(unlinked) });
/// ```
#[track_caller]
pub unsafe fn rcu_borrow<T>(ptr: *const T, guard: &Guard) -> &T {
    let _ = guard;
    assert!(!ptr.is_null(), "rcu::rcu_borrow: null pointer");
    // SAFETY: the caller promises the pointee stays valid and unwritten until the guard's
    // section ends, which is no earlier than the end of the borrow of `guard`.
    unsafe { &*ptr }
}

#[cfg(test)]
mod tests;
