//! `Unlinked`, an entry removed from an `RcuList` and waiting to be reclaimed.

use super::links::{ListLinks, ListPointer, links_of};
use crate::grace_period::synchronize_rcu;
use crate::head::{HasRcuHead, RcuHead};
use crate::reader::{assert_may_wait, wait_would_panic};
use crate::{HasField, call_rcu};
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

/// An entry unlinked from an [`RcuList`](super::RcuList) that readers may still see.
///
/// It owns the pointer the list was given and reclaims it after a grace period:
///
/// - dropping it waits for a grace period, then drops the pointer;
/// - [`synchronize`](Self::synchronize) waits and returns the pointer, so the value can
///   be reused or inserted again;
/// - [`defer`](Self::defer) and [`kfree_rcu`](Self::kfree_rcu) queue the drop as a
///   callback and return at once.
///
/// Until then the value is readable through `Deref`, and it cannot be inserted on a list
/// through the same `ListLinks<ID>` again.
///
/// Dropping or synchronizing waits for a grace period, so inside a read-side critical
/// section it panics, as [`synchronize_rcu`](crate::synchronize_rcu) does. Keep the
/// `Unlinked` values until the guard is gone, or defer them.
///
/// ```
/// # use rcu::{HasField, ListLinks, RcuList};
/// # #[derive(HasField)]
/// # struct Item { value: u32, #[field] links: ListLinks }
/// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
/// let list: RcuList<Item> = RcuList::new();
/// list.lock().push_back(item(1));
/// let unlinked = list.lock().pop_front().unwrap();
/// assert_eq!(unlinked.value, 1); // readable until reclaimed
/// drop(unlinked); // waits for a grace period, then drops the box
/// ```
#[must_use = "dropping an Unlinked waits for a grace period; call defer() to avoid waiting"]
pub struct Unlinked<T, const ID: u64 = 0, P = Box<T>>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    /// From `P::into_raw`.
    entry: NonNull<T>,
    owner: PhantomData<P>,
}

// SAFETY: the `Unlinked` owns the `P`, and sending it sends the `P`.
unsafe impl<T, const ID: u64, P> Send for Unlinked<T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T> + Send,
{
}

// SAFETY: a shared `Unlinked` gives only `&T`.
unsafe impl<T, const ID: u64, P> Sync for Unlinked<T, ID, P>
where
    T: HasField<T, ListLinks<ID>> + Sync,
    P: ListPointer<T>,
{
}

impl<T, const ID: u64, P> Unlinked<T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    /// # Safety
    ///
    /// `entry` came from `P::into_raw`, was just unlinked, and is owned by nothing else.
    pub(super) unsafe fn new(entry: NonNull<T>) -> Self {
        Unlinked {
            entry,
            owner: PhantomData,
        }
    }

    /// Waits for a grace period and returns the pointer the list was given.
    ///
    /// The value's links are free again afterwards, so it may be inserted on a list.
    ///
    /// # Panics
    ///
    /// Panics inside a read-side critical section, where the grace period could never end.
    ///
    /// ```
    /// # use rcu::{HasField, ListLinks, RcuList};
    /// # #[derive(HasField)]
    /// # struct Item { value: u32, #[field] links: ListLinks }
    /// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
    /// let list: RcuList<Item> = RcuList::new();
    /// list.lock().push_back(item(1));
    /// let unlinked = list.lock().pop_front().unwrap();
    /// let boxed: Box<Item> = unlinked.synchronize();
    /// list.lock().push_back(boxed); // free to insert again
    /// ```
    #[track_caller]
    pub fn synchronize(self) -> P {
        assert_may_wait("rcu::list::Unlinked::synchronize()");
        synchronize_rcu();
        let this = ManuallyDrop::new(self);
        // SAFETY: the grace period has ended, so no reader can still be on the entry,
        // and `this` owns it.
        unsafe { reclaim(this.entry) }
    }

    /// Drops the pointer after a grace period without waiting for it: a callback thread
    /// drops it. Subject to the callback backlog limit, like
    /// [`kfree_rcu`](crate::kfree_rcu).
    ///
    /// Allocates one small node that carries the pointer through the callback queue,
    /// because the value may be on other lists or queued elsewhere and its own
    /// [`RcuHead`] cannot be borrowed. For a `Box` of a type with an `RcuHead`,
    /// [`kfree_rcu`](Self::kfree_rcu) allocates nothing.
    ///
    /// ```
    /// # use rcu::{HasField, ListLinks, RcuList};
    /// # #[derive(HasField)]
    /// # struct Item { value: u32, #[field] links: ListLinks }
    /// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
    /// let list: RcuList<Item> = RcuList::new();
    /// list.lock().push_back(item(1));
    /// let guard = rcu::read_lock();
    /// list.lock().pop_front().unwrap().defer(); // fine inside a section
    /// drop(guard);
    /// rcu::rcu_barrier();
    /// ```
    pub fn defer(self)
    where
        P: Send + 'static,
    {
        #[repr(C)]
        struct Deferred<T> {
            head: RcuHead,
            entry: NonNull<T>,
        }

        unsafe fn reclaim_deferred<T, const ID: u64, P>(head: *mut RcuHead)
        where
            T: HasField<T, ListLinks<ID>>,
            P: ListPointer<T>,
        {
            // SAFETY: `head` is the first field of a `#[repr(C)]` `Deferred<T>` leaked
            // from a box in `defer`, which only this callback takes back.
            let node = unsafe { Box::from_raw(head.cast::<Deferred<T>>()) };
            // SAFETY: the callback runs after a grace period, and the node owned the
            // entry.
            drop(unsafe { reclaim::<T, ID, P>(node.entry) });
        }

        let this = ManuallyDrop::new(self);
        let node = Box::into_raw(Box::new(Deferred {
            head: RcuHead::new(),
            entry: this.entry,
        }));
        // SAFETY: the head is fresh and the queue owns the node until the callback runs.
        // The callback drops a `P`, which is `Send`, on the callback thread.
        unsafe { call_rcu(node.cast::<RcuHead>(), reclaim_deferred::<T, ID, P>) };
        crate::callback::throttle();
    }
}

impl<T, const ID: u64> Unlinked<T, ID, Box<T>>
where
    T: HasField<T, ListLinks<ID>> + HasRcuHead + Send + 'static,
{
    /// Drops the box after a grace period without waiting for it or allocating, through
    /// [`kfree_rcu`](crate::kfree_rcu) and the value's own [`RcuHead`].
    ///
    /// ```
    /// use rcu::{HasField, ListLinks, RcuHead, RcuList};
    ///
    /// #[derive(HasField)]
    /// struct Entry {
    ///     #[field]
    ///     links: ListLinks,
    ///     #[field]
    ///     head: RcuHead,
    /// }
    ///
    /// let list: RcuList<Entry> = RcuList::new();
    /// list.lock().push_back(Box::new(Entry { links: ListLinks::new(), head: RcuHead::new() }));
    /// list.lock().pop_front().unwrap().kfree_rcu();
    /// rcu::rcu_barrier();
    /// ```
    pub fn kfree_rcu(self) {
        let this = ManuallyDrop::new(self);
        // The links are not reset: the value is freed without ever being reachable again.
        // SAFETY: `entry` came from `Box::into_raw`, and `this` owned it.
        let boxed = unsafe { Box::from_raw(this.entry.as_ptr()) };
        crate::kfree_rcu(boxed);
    }
}

impl<T, const ID: u64, P> core::ops::Deref for Unlinked<T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the `Unlinked` owns the value, which lives until it is reclaimed.
        unsafe { self.entry.as_ref() }
    }
}

impl<T, const ID: u64, P> Drop for Unlinked<T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    fn drop(&mut self) {
        if std::thread::panicking() && wait_would_panic() {
            // Waiting would panic again and abort the process. Leaking is sound.
            crate::report::report_error!(
                "rcu: leaking an RcuList entry: its Unlinked was dropped while unwinding \
                 inside a read-side critical section, or holding a list's writer lock that \
                 readers take inside sections, where waiting for a grace period could \
                 deadlock"
            );
            return;
        }
        assert_may_wait("Drop for rcu::list::Unlinked");
        synchronize_rcu();
        // SAFETY: the grace period has ended, and `self` owns the entry.
        drop(unsafe { reclaim::<T, ID, P>(self.entry) });
    }
}

impl<T, const ID: u64, P> core::fmt::Debug for Unlinked<T, ID, P>
where
    T: HasField<T, ListLinks<ID>> + core::fmt::Debug,
    P: ListPointer<T>,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Unlinked").field(&**self).finish()
    }
}

/// Frees the links of an unlinked entry and returns its owning pointer.
///
/// # Safety
///
/// `entry` came from `P::into_raw` and was unlinked, a grace period has ended since, and
/// the caller owned it.
unsafe fn reclaim<T, const ID: u64, P>(entry: NonNull<T>) -> P
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    // SAFETY: the entry is live, and after the grace period no reader can reach its links.
    unsafe { ListLinks::reset(links_of::<T, ID>(entry.as_ptr())) };
    // SAFETY: `entry` came from `P::into_raw`, and its owner gives it up here.
    unsafe { P::from_raw(entry) }
}
