//! An intrusive, RCU-protected doubly linked list, after the Linux kernel's `rculist.h`.
//!
//! Readers walk an [`RcuList`] inside a read-side critical section and take no lock:
//! [`RcuList::iter`] borrows the [`Guard`] and yields `&T` for as long as the guard lives.
//! Writers take the list's writer lock with [`RcuList::lock`], which returns a
//! [`ListWriter`]; only a `ListWriter` inserts or removes, so two writers never race, and
//! readers never wait for one.
//!
//! # Entries and links
//!
//! The list threads its entries through a [`ListLinks<ID>`] field inside each entry, so
//! linking allocates nothing. `RcuList<T, ID>` needs `T: HasField<T, ListLinks<ID>>`,
//! which `#[derive(HasField)]` writes for a `#[field]` of that type. A value with two
//! `ListLinks` fields of different `ID`s can be on two lists at once.
//!
//! # Ownership and reclamation
//!
//! Insertion moves an owning pointer `P` into the list: a [`Box<T>`] (the default) or an
//! [`Arc<T>`](std::sync::Arc). Removal unpublishes the entry and returns it as an
//! [`Unlinked`], which owns that pointer and reclaims it after a grace period: dropping it
//! waits for one ([`synchronize_rcu`](crate::synchronize_rcu)),
//! [`Unlinked::synchronize`] waits and hands the pointer back, and [`Unlinked::defer`] and
//! [`Unlinked::kfree_rcu`] queue the reclamation as a callback and never wait for a grace
//! period (they are subject to the callback backlog limit, like `kfree_rcu`). Dropping
//! the list drops every entry still on it.
//!
//! A value on two lists is owned through `Arc<T>`, and each list holds one strong count,
//! which it gives up when the entry is reclaimed from that list. The value itself is
//! dropped when the last count goes: after it has been reclaimed from every list that it
//! was on (or those lists were dropped), and after other code has dropped its `Arc`s.
//!
//! An entry is linked on at most one list through each `ListLinks<ID>` field. Inserting
//! a value that is already linked through that field, or whose removal still awaits its
//! grace period, panics: with `Box<T>` this cannot happen, with `Arc<T>` it means two
//! `Arc`s to the same value were inserted.
//!
//! # Caveats
//!
//! As in the kernel, a reader that stands on an entry while a writer removes it keeps a
//! valid `&T`, and the walk goes on from the entry to the successor it had at removal
//! time (or to a later one, if that successor was removed too) or ends. So one walk:
//!
//! - may or may not see an entry inserted or removed while it runs,
//! - never sees an entry twice, because a removed entry can be inserted again only after
//!   its grace period, which waits for the walk,
//! - ends, unless writers keep inserting ahead of it faster than it advances.
//!
//! # The writer lock and grace periods
//!
//! A reader may take the writer lock inside its section, to remove the entry it stands
//! on, and a writer may wait for a grace period while it holds the lock, for example by
//! dropping an [`Unlinked`]. On one list the two together can deadlock, as a lock taken
//! inside `rcu_read_lock()` and held across `synchronize_rcu()` can in the kernel. The
//! list keeps a record of both and panics at whichever comes second, naming both (see
//! [`RcuList::lock`]). A writer that reclaims after dropping its [`ListWriter`], or with
//! [`Unlinked::defer`], never builds the pair.
//!
//! # Example: one value on two lists
//!
//! Sessions sit on a list of all sessions and, while idle, on an idle list. One thread
//! walks both lists under a guard while another removes a session from the idle list;
//! the session stays reachable through the other list.
//!
//! ```
//! use std::sync::Arc;
//! use std::thread;
//!
//! use rcu::{HasField, ListLinks, RcuList};
//!
//! #[derive(HasField)]
//! #[has_field(crate = "rcu::has_field")]
//! struct Session {
//!     id: u32,
//!     #[field]
//!     all: ListLinks<0>,
//!     #[field]
//!     idle: ListLinks<1>,
//! }
//!
//! let all: RcuList<Session, 0, Arc<Session>> = RcuList::new();
//! let idle: RcuList<Session, 1, Arc<Session>> = RcuList::new();
//! for id in 0..4 {
//!     let session = Arc::new(Session { id, all: ListLinks::new(), idle: ListLinks::new() });
//!     all.lock().push_back(Arc::clone(&session));
//!     if id % 2 == 0 {
//!         idle.lock().push_back(session);
//!     }
//! }
//!
//! thread::scope(|scope| {
//!     let guard = rcu::read_lock();
//!
//!     scope.spawn(|| {
//!         let guard = rcu::read_lock();
//!         let mut writer = idle.lock();
//!         let busy = idle.iter(&guard).find(|session| session.id == 2).unwrap();
//!         let unlinked = writer.remove(busy).unwrap();
//!         drop(writer);
//!         drop(guard);
//!
//!         // Waits until no reader can still see the session on the idle list, then
//!         // returns the idle list's `Arc`.
//!         let session: Arc<Session> = unlinked.synchronize();
//!         assert_eq!(session.id, 2);
//!     });
//!
//!     // Whether or not the removal has happened yet, every session seen is valid.
//!     for session in idle.iter(&guard) {
//!         assert_eq!(session.id % 2, 0);
//!     }
//!     let ids: Vec<u32> = all.iter(&guard).map(|session| session.id).collect();
//!     assert_eq!(ids, [0, 1, 2, 3]);
//!     drop(guard);
//! });
//!
//! let guard = rcu::read_lock();
//! let idle_ids: Vec<u32> = idle.iter(&guard).map(|session| session.id).collect();
//! assert_eq!(idle_ids, [0]);
//! assert_eq!(all.iter(&guard).count(), 4);
//! ```

mod links;
pub(crate) mod lock_order;
mod unlinked;

#[cfg(test)]
mod tests;

pub use links::{ListLinks, ListPointer};
pub use unlinked::Unlinked;

use crate::HasField;
use crate::reader::Guard;
use crate::sync::{Mutex, MutexGuard, Ordering, lock};
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use links::{entry_of, links_of, unlinked_marker};

/// An intrusive doubly linked list that readers walk without locks inside a read-side
/// critical section.
///
/// Entries are `T`s linked through their [`ListLinks<ID>`] field and owned through `P`,
/// a [`Box<T>`] or an [`Arc<T>`](std::sync::Arc). See the [module docs](self) for
/// ownership, reclamation and what a concurrent walk sees.
///
/// ```
/// use rcu::{HasField, ListLinks, RcuList};
///
/// #[derive(HasField)]
/// #[has_field(crate = "rcu::has_field")]
/// struct Route {
///     prefix: u32,
///     #[field]
///     links: ListLinks,
/// }
///
/// let routes: RcuList<Route> = RcuList::new();
/// {
///     let mut writer = routes.lock();
///     writer.push_back(Box::new(Route { prefix: 10, links: ListLinks::new() }));
///     writer.push_front(Box::new(Route { prefix: 192, links: ListLinks::new() }));
/// }
///
/// let guard = rcu::read_lock();
/// let prefixes: Vec<u32> = routes.iter(&guard).map(|route| route.prefix).collect();
/// assert_eq!(prefixes, [192, 10]);
/// ```
pub struct RcuList<T, const ID: u64 = 0, P = Box<T>>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    /// Owned, from `Box::into_raw`. Held as a raw pointer because entries point at the
    /// sentinel inside, and moving a `Box` would assert unique access to it.
    inner: NonNull<ListInner<ID>>,
    /// The list owns one `P` per entry.
    entries: PhantomData<P>,
    entry_type: PhantomData<T>,
}

struct ListInner<const ID: u64> {
    /// The links before the first entry and after the last. Its `owner` points to itself,
    /// which makes its address the list's identity in every entry's `owner`.
    sentinel: ListLinks<ID>,
    /// The writer lock, around the number of entries.
    writer: Mutex<usize>,
    /// Whether the writer lock has been taken inside a section, and held across a wait.
    order: lock_order::LockOrder,
}

// SAFETY: the list owns its entries through `P`, so sending it sends them (`P: Send`).
unsafe impl<T, const ID: u64, P> Send for RcuList<T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T> + Send,
{
}

// SAFETY: a shared list hands out `&T` to readers on any thread (`T: Sync`), and its
// writers move `P`s in and out from any thread (`P: Send`). Writers are serialized by
// the writer lock, and readers touch only atomics.
unsafe impl<T, const ID: u64, P> Sync for RcuList<T, ID, P>
where
    T: HasField<T, ListLinks<ID>> + Sync,
    P: ListPointer<T> + Send,
{
}

impl<T, const ID: u64, P> RcuList<T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    /// Creates an empty list. Allocates the sentinel, so that the list can move while
    /// entries point at it.
    ///
    /// ```
    /// # use rcu::{HasField, ListLinks, RcuList};
    /// # #[derive(HasField)]
    /// # struct Item { value: u32, #[field] links: ListLinks }
    /// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
    /// let list: RcuList<Item> = RcuList::new();
    /// assert!(list.lock().is_empty());
    /// ```
    pub fn new() -> Self {
        let inner = Box::into_raw(Box::new(ListInner {
            sentinel: ListLinks::new(),
            writer: Mutex::new(0),
            order: lock_order::LockOrder::new(),
        }));
        // SAFETY: `inner` comes from `Box::into_raw`, so it is valid, and nothing else
        // has seen it yet.
        let sentinel = unsafe { &raw mut (*inner).sentinel };
        // SAFETY: as above.
        let links = unsafe { &*sentinel };
        // Relaxed: the list is not shared yet, and whatever shares it with another thread
        // synchronizes with this one.
        links.next.store(sentinel, Ordering::Relaxed);
        links.owner.store(sentinel.cast(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { *links.prev.get() = sentinel };

        RcuList {
            // SAFETY: `Box::into_raw` never returns null.
            inner: unsafe { NonNull::new_unchecked(inner) },
            entries: PhantomData,
            entry_type: PhantomData,
        }
    }

    /// Returns an iterator over the entries from front to back, valid for as long as
    /// `guard` lives.
    ///
    /// Takes no lock and never blocks. Entries that writers insert or remove during the
    /// walk may or may not be yielded; see the [module docs](self) for the details.
    ///
    /// ```
    /// use rcu::{HasField, ListLinks, RcuList};
    ///
    /// #[derive(HasField)]
    /// #[has_field(crate = "rcu::has_field")]
    /// struct Item {
    ///     value: u64,
    ///     #[field]
    ///     links: ListLinks,
    /// }
    ///
    /// let list: RcuList<Item> = RcuList::new();
    /// list.lock().push_back(Box::new(Item { value: 3, links: ListLinks::new() }));
    ///
    /// let guard = rcu::read_lock();
    /// let sum: u64 = list.iter(&guard).map(|item| item.value).sum();
    /// assert_eq!(sum, 3);
    /// ```
    pub fn iter<'g>(&'g self, guard: &'g Guard) -> Iter<'g, T, ID> {
        let _ = guard;
        // SAFETY: a guard is held for `'g`, the lifetime of every yielded entry.
        unsafe { Iter::new(self.sentinel()) }
    }

    /// Takes the writer lock, blocking while another writer holds it.
    ///
    /// Readers do not take the lock, so they walk on while a writer holds it. The lock is
    /// not reentrant, like `std::sync::Mutex`: calling `lock` again on a thread that
    /// already holds a `ListWriter` for this list deadlocks.
    ///
    /// # Panics
    ///
    /// Taking the lock inside a read-side critical section is allowed, and so is waiting
    /// for a grace period while holding it, but not both on one list. The waiting writer
    /// would keep the lock until the grace period ends, and the grace period would wait
    /// for the section of a reader that waits for the lock. The call that completes the
    /// pair panics, here or in the wait, naming both halves, even if the two never
    /// overlapped in time (as the kernel's lockdep reports lock-order problems).
    ///
    /// ```
    /// use rcu::{HasField, ListLinks, RcuList};
    ///
    /// #[derive(HasField)]
    /// #[has_field(crate = "rcu::has_field")]
    /// struct Item {
    ///     #[field]
    ///     links: ListLinks,
    /// }
    ///
    /// let list: RcuList<Item> = RcuList::new();
    /// let mut writer = list.lock();
    /// writer.push_front(Box::new(Item { links: ListLinks::new() }));
    /// assert_eq!(writer.len(), 1);
    /// ```
    #[track_caller]
    pub fn lock(&self) -> ListWriter<'_, T, ID, P> {
        let order = &self.inner().order;
        order.before_lock();
        let len = lock(&self.inner().writer);
        order.locked();
        ListWriter { list: self, len }
    }

    fn inner(&self) -> &ListInner<ID> {
        // SAFETY: `inner` is valid from `new` until `drop`.
        unsafe { self.inner.as_ref() }
    }

    /// Returns the sentinel, with the provenance of the allocation.
    fn sentinel(&self) -> *mut ListLinks<ID> {
        // SAFETY: `inner` is valid from `new` until `drop`.
        unsafe { &raw mut (*self.inner.as_ptr()).sentinel }
    }
}

impl<T, const ID: u64, P> Default for RcuList<T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const ID: u64, P> Drop for RcuList<T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    /// Drops every entry still on the list, at once: no reader can be walking the list,
    /// because every walk borrows it.
    fn drop(&mut self) {
        let sentinel = self.sentinel();
        // Relaxed here and below: `&mut self` means that every writer has finished, and
        // whatever ended their borrows synchronized with this thread.
        // SAFETY: the sentinel is valid until the end of this function.
        let mut links = unsafe { (*sentinel).next.load(Ordering::Relaxed) };
        while links != sentinel {
            // SAFETY: `links` is on the list, so it is inside a live entry that the list
            // owns, and its pointer carries the provenance of the `P` it came from.
            let next = unsafe { (*links).next.load(Ordering::Relaxed) };
            // SAFETY: as above.
            let entry = unsafe { entry_of::<T, ID>(links) };
            // SAFETY: no reader can reach the links any more, because no walk can exist.
            // Resetting them lets other `Arc`s to the value insert it again later.
            unsafe { ListLinks::reset(links) };
            // SAFETY: every entry came from `P::into_raw`, and the list drops each once.
            drop(unsafe { P::from_raw(NonNull::new_unchecked(entry)) });
            links = next;
        }

        // SAFETY: `inner` came from `Box::into_raw` in `new`, and no entry points at the
        // sentinel any more, except unlinked ones, which never follow their links.
        drop(unsafe { Box::from_raw(self.inner.as_ptr()) });
    }
}

impl<T, const ID: u64, P> core::fmt::Debug for RcuList<T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RcuList")
            .field("id", &ID)
            .finish_non_exhaustive()
    }
}

/// The writer lock of an [`RcuList`], held: inserts and removes entries.
///
/// Created by [`RcuList::lock`]; the lock is released when the writer is dropped. Every
/// change is visible to readers as soon as the method returns.
///
/// ```
/// # use rcu::{HasField, ListLinks, RcuList};
/// # #[derive(HasField)]
/// # struct Item { value: u32, #[field] links: ListLinks }
/// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
/// let list: RcuList<Item> = RcuList::new();
/// {
///     let mut writer = list.lock();
///     writer.push_back(item(1));
/// } // the lock is released here
/// assert_eq!(list.lock().len(), 1);
/// ```
#[must_use = "the writer lock is released when the writer is dropped"]
pub struct ListWriter<'a, T, const ID: u64 = 0, P = Box<T>>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    list: &'a RcuList<T, ID, P>,
    len: MutexGuard<'a, usize>,
}

impl<'a, T, const ID: u64, P> ListWriter<'a, T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    /// Inserts `entry` at the front of the list.
    ///
    /// # Panics
    ///
    /// Panics if the value is already linked through its `ListLinks<ID>`, on this list
    /// or another, or if its removal is still waiting for a grace period. Only possible
    /// with `Arc<T>`, when another `Arc` to the value was inserted before.
    ///
    /// ```
    /// # use rcu::{HasField, ListLinks, RcuList};
    /// # #[derive(HasField)]
    /// # struct Item { value: u32, #[field] links: ListLinks }
    /// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
    /// let list: RcuList<Item> = RcuList::new();
    /// let mut writer = list.lock();
    /// writer.push_front(item(2));
    /// writer.push_front(item(1));
    /// let values: Vec<u32> = writer.iter().map(|item| item.value).collect();
    /// assert_eq!(values, [1, 2]);
    /// ```
    #[track_caller]
    pub fn push_front(&mut self, entry: P) {
        let sentinel = self.list.sentinel();
        // SAFETY: the sentinel is on this list, and this writer holds its lock.
        unsafe { self.link_after(sentinel, entry) };
    }

    /// Inserts `entry` at the back of the list.
    ///
    /// # Panics
    ///
    /// As [`push_front`](Self::push_front).
    ///
    /// ```
    /// # use rcu::{HasField, ListLinks, RcuList};
    /// # #[derive(HasField)]
    /// # struct Item { value: u32, #[field] links: ListLinks }
    /// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
    /// let list: RcuList<Item> = RcuList::new();
    /// let mut writer = list.lock();
    /// writer.push_back(item(1));
    /// writer.push_back(item(2));
    /// let values: Vec<u32> = writer.iter().map(|item| item.value).collect();
    /// assert_eq!(values, [1, 2]);
    /// ```
    #[track_caller]
    pub fn push_back(&mut self, entry: P) {
        let sentinel = self.list.sentinel();
        // SAFETY: the lock is held, so the sentinel's `prev` is the last entry's links
        // (or the sentinel), which is on this list.
        unsafe { self.link_after(*(*sentinel).prev.get(), entry) };
    }

    /// Inserts `entry` right after `after`, or returns it in `Err` if `after` is not on
    /// this list (another writer may have removed it since the caller found it).
    ///
    /// # Panics
    ///
    /// As [`push_front`](Self::push_front).
    ///
    /// ```
    /// use rcu::{HasField, ListLinks, RcuList};
    ///
    /// #[derive(HasField)]
    /// #[has_field(crate = "rcu::has_field")]
    /// struct Item {
    ///     value: u64,
    ///     #[field]
    ///     links: ListLinks,
    /// }
    /// let item = |value| Box::new(Item { value, links: ListLinks::new() });
    ///
    /// let list: RcuList<Item> = RcuList::new();
    /// let mut writer = list.lock();
    /// writer.push_back(item(1));
    /// writer.push_back(item(3));
    ///
    /// let guard = rcu::read_lock();
    /// let one = list.iter(&guard).next().unwrap();
    /// assert!(writer.insert_after(one, item(2)).is_ok());
    /// let values: Vec<u64> = list.iter(&guard).map(|item| item.value).collect();
    /// assert_eq!(values, [1, 2, 3]);
    /// ```
    #[track_caller]
    pub fn insert_after(&mut self, after: &T, entry: P) -> Result<(), P> {
        match self.find(after) {
            // SAFETY: `find` returns only links that are on this list.
            Some(links) => unsafe { self.link_after(links, entry) },
            None => return Err(entry),
        }
        Ok(())
    }

    /// Unlinks `entry`, or returns `None` if it is not on this list.
    ///
    /// Readers that already reached the entry keep using it and walk on from it. The
    /// returned [`Unlinked`] owns the entry and reclaims it after a grace period.
    ///
    /// ```
    /// use rcu::{HasField, ListLinks, RcuList};
    ///
    /// #[derive(HasField)]
    /// #[has_field(crate = "rcu::has_field")]
    /// struct Item {
    ///     value: u64,
    ///     #[field]
    ///     links: ListLinks,
    /// }
    ///
    /// let list: RcuList<Item> = RcuList::new();
    /// let mut writer = list.lock();
    /// writer.push_back(Box::new(Item { value: 1, links: ListLinks::new() }));
    /// writer.push_back(Box::new(Item { value: 2, links: ListLinks::new() }));
    ///
    /// let guard = rcu::read_lock();
    /// let first = list.iter(&guard).next().unwrap();
    /// let unlinked = writer.remove(first).unwrap();
    /// assert!(writer.remove(first).is_none(), "already removed");
    /// drop(writer);
    /// assert_eq!(first.value, 1, "still readable under the guard");
    /// drop(guard);
    ///
    /// let item: Box<Item> = unlinked.synchronize();
    /// assert_eq!(item.value, 1);
    /// ```
    pub fn remove(&mut self, entry: &T) -> Option<Unlinked<T, ID, P>> {
        let links = self.find(entry)?;
        // SAFETY: `find` returns only links that are on this list.
        Some(unsafe { self.unlink(links) })
    }

    /// Unlinks the first entry, or returns `None` if the list is empty.
    ///
    /// ```
    /// # use rcu::{HasField, ListLinks, RcuList};
    /// # #[derive(HasField)]
    /// # struct Item { value: u32, #[field] links: ListLinks }
    /// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
    /// let list: RcuList<Item> = RcuList::new();
    /// list.lock().push_back(item(7));
    /// let first = list.lock().pop_front().unwrap();
    /// assert_eq!(first.synchronize().value, 7); // waits for a grace period
    /// assert!(list.lock().pop_front().is_none());
    /// ```
    pub fn pop_front(&mut self) -> Option<Unlinked<T, ID, P>> {
        let sentinel = self.list.sentinel();
        // Relaxed: only writers store `next`, and this one holds the lock.
        // SAFETY: the sentinel lives as long as the list.
        let first = unsafe { (*sentinel).next.load(Ordering::Relaxed) };
        if first == sentinel {
            return None;
        }
        // SAFETY: `first` is the first entry of this list.
        Some(unsafe { self.unlink(first) })
    }

    /// Returns `true` if `entry` is on this list.
    ///
    /// ```
    /// # use rcu::{HasField, ListLinks, RcuList};
    /// # #[derive(HasField)]
    /// # struct Item { value: u32, #[field] links: ListLinks }
    /// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
    /// let list: RcuList<Item> = RcuList::new();
    /// let other: RcuList<Item> = RcuList::new();
    /// list.lock().push_back(item(1));
    /// other.lock().push_back(item(2));
    /// let writer = list.lock();
    /// let first = writer.iter().next().unwrap();
    /// assert!(writer.contains(first));
    /// let guard = rcu::read_lock();
    /// assert!(!writer.contains(other.iter(&guard).next().unwrap()));
    /// ```
    pub fn contains(&self, entry: &T) -> bool {
        self.find(entry).is_some()
    }

    /// Returns the number of entries.
    ///
    /// ```
    /// # use rcu::{HasField, ListLinks, RcuList};
    /// # #[derive(HasField)]
    /// # struct Item { value: u32, #[field] links: ListLinks }
    /// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
    /// let list: RcuList<Item> = RcuList::new();
    /// list.lock().push_back(item(1));
    /// assert_eq!(list.lock().len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        *self.len
    }

    /// Returns `true` if the list has no entries.
    ///
    /// ```
    /// # use rcu::{HasField, ListLinks, RcuList};
    /// # #[derive(HasField)]
    /// # struct Item { value: u32, #[field] links: ListLinks }
    /// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
    /// let list: RcuList<Item> = RcuList::new();
    /// assert!(list.lock().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self.len == 0
    }

    /// Returns an iterator over the entries from front to back. Needs no guard, because
    /// no entry can be removed while the writer lock is held.
    ///
    /// ```
    /// # use rcu::{HasField, ListLinks, RcuList};
    /// # #[derive(HasField)]
    /// # struct Item { value: u32, #[field] links: ListLinks }
    /// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
    /// let list: RcuList<Item> = RcuList::new();
    /// let mut writer = list.lock();
    /// writer.push_back(item(1));
    /// writer.push_back(item(2));
    /// assert_eq!(writer.iter().map(|item| item.value).sum::<u32>(), 3);
    /// ```
    pub fn iter(&self) -> Iter<'_, T, ID> {
        // SAFETY: entries are removed only under the writer lock, which `self` holds for
        // the iterator's lifetime, and are reclaimed only after removal.
        unsafe { Iter::new(self.list.sentinel()) }
    }

    /// Returns the links of `entry` with the provenance they were linked with, if the
    /// entry is on this list.
    fn find(&self, entry: &T) -> Option<*mut ListLinks<ID>> {
        let entry = ptr::from_ref(entry).cast_mut();
        // SAFETY: `entry` comes from a reference, so it points to a live `T`.
        let links = unsafe { links_of::<T, ID>(entry) };
        // Relaxed: the owner is this list's sentinel only if a writer of this list stored
        // it, and the writer lock orders that store before this load. Any other value
        // means "not on this list", whoever stored it.
        // SAFETY: `links` points into the live `entry`.
        let owner = unsafe { (*links).owner.load(Ordering::Relaxed) };
        if owner != self.list.sentinel().cast() {
            return None;
        }

        // A pointer made from `&T` may write only the links' interior-mutable bytes. The
        // predecessor's `next` holds the pointer that the entry was linked with, which
        // carries the provenance of `P::into_raw`, so removal can give ownership back.
        // SAFETY: the entry is on this list and the lock is held, so `prev` is its
        // predecessor's links, which live on this list too.
        let linked = unsafe { (*(*(*links).prev.get())).next.load(Ordering::Relaxed) };
        debug_assert_eq!(linked, links);
        Some(linked)
    }

    /// Links `entry` between `prev` and its successor.
    ///
    /// # Safety
    ///
    /// `prev` is the sentinel or links on this list.
    #[track_caller]
    unsafe fn link_after(&mut self, prev: *mut ListLinks<ID>, entry: P) {
        let entry = P::into_raw(entry);
        // SAFETY: `entry` comes from `into_raw`, so it points to a live `T`.
        let links = unsafe { links_of::<T, ID>(entry.as_ptr()) };
        // SAFETY: as above, `links` points into the live entry.
        let links_ref = unsafe { &*links };

        // Claim the links. Acquire pairs with the Release in `ListLinks::reset`: the last
        // list that held the value is done with the links before this one writes them.
        let owner = self.list.sentinel().cast::<()>();
        let claimed = links_ref.owner.compare_exchange(
            ptr::null_mut(),
            owner,
            Ordering::Acquire,
            Ordering::Relaxed,
        );
        if let Err(current) = claimed {
            // Dropping the pointer is sound: a linked value is owned by its list, so this
            // is another `Arc` to it. A `Box` is never linked when its owner holds it.
            // SAFETY: `entry` came from `P::into_raw` above.
            drop(unsafe { P::from_raw(entry) });
            already_linked(current == owner, current == unlinked_marker());
        }

        // SAFETY: `prev` is on this list and the lock is held, so its `next` is its
        // successor (or the sentinel), whose `prev` only this writer may write.
        unsafe {
            // Relaxed: only writers store `next`, and this one holds the lock.
            let next = (*prev).next.load(Ordering::Relaxed);
            // Relaxed: no reader can reach the new entry before the Release store below.
            links_ref.next.store(next, Ordering::Relaxed);
            *links_ref.prev.get() = prev;
            // Release publishes the entry, its links and everything written to it before
            // it was inserted. Pairs with the Acquire loads of `next` in `Iter`.
            (*prev).next.store(links, Ordering::Release);
            *(*next).prev.get() = links;
        }
        *self.len += 1;
    }

    /// Unpublishes the entry whose links are `links`, keeping its `next` for readers.
    ///
    /// # Safety
    ///
    /// `links` is on this list and carries the provenance it was linked with.
    unsafe fn unlink(&mut self, links: *mut ListLinks<ID>) -> Unlinked<T, ID, P> {
        // SAFETY: `links` is on this list and the lock is held, so its neighbours are on
        // the list too, and their `prev` and the entry's own are this writer's to write.
        unsafe {
            let prev = *(*links).prev.get();
            // Relaxed: only writers store `next`, and this one holds the lock.
            let next = (*links).next.load(Ordering::Relaxed);
            // Release pairs with the Acquire loads of `next` in `Iter`. A reader that
            // loads `next` here sees the successor's contents, which were published to
            // this writer through the lock.
            (*prev).next.store(next, Ordering::Release);
            *(*next).prev.get() = prev;
            *(*links).prev.get() = ptr::null_mut();
            // Relaxed: a thread that reads the marker only rejects the value. The reset
            // after the grace period releases the links to the next list.
            (*links).owner.store(unlinked_marker(), Ordering::Relaxed);
        }
        *self.len -= 1;

        // SAFETY: `links` has the provenance of `P::into_raw`, so its container is the
        // pointer the list was given, which now passes to the `Unlinked`.
        unsafe { Unlinked::new(NonNull::new_unchecked(entry_of::<T, ID>(links))) }
    }
}

impl<T, const ID: u64, P> Drop for ListWriter<'_, T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    /// Removes the lock from the thread's record of held writer locks. The `MutexGuard`
    /// field, dropped after this runs, releases the lock itself.
    fn drop(&mut self) {
        self.list.inner().order.unlocked();
    }
}

impl<T, const ID: u64, P> core::fmt::Debug for ListWriter<'_, T, ID, P>
where
    T: HasField<T, ListLinks<ID>>,
    P: ListPointer<T>,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ListWriter")
            .field("id", &ID)
            .field("len", &*self.len)
            .finish_non_exhaustive()
    }
}

#[cold]
#[track_caller]
fn already_linked(on_this_list: bool, awaiting_grace_period: bool) -> ! {
    let where_ = if on_this_list {
        "already on this list"
    } else if awaiting_grace_period {
        "removed from a list, and its grace period has not ended"
    } else {
        "on another list that uses the same ListLinks<ID> field"
    };
    panic!(
        "RcuList: cannot insert a value that is {where_}. A value is linked at most once \
         through each ListLinks<ID> field: remove it and reclaim the Unlinked first, or \
         give the value another ListLinks field with a different ID for a second list"
    );
}

/// An iterator over the entries of an [`RcuList`], from front to back.
///
/// Created by [`RcuList::iter`] under a guard, or by [`ListWriter::iter`] under the
/// writer lock. Every `&'g T` it yields is valid for as long as that guard or lock is held.
///
/// ```
/// # use rcu::{HasField, ListLinks, RcuList};
/// # #[derive(HasField)]
/// # struct Item { value: u32, #[field] links: ListLinks }
/// # fn item(value: u32) -> Box<Item> { Box::new(Item { value, links: ListLinks::new() }) }
/// let list: RcuList<Item> = RcuList::new();
/// list.lock().push_back(item(4));
/// let guard = rcu::read_lock();
/// let mut iter = list.iter(&guard);
/// assert_eq!(iter.next().map(|item| item.value), Some(4));
/// assert!(iter.next().is_none());
/// ```
pub struct Iter<'g, T, const ID: u64 = 0>
where
    T: HasField<T, ListLinks<ID>>,
{
    sentinel: *mut ListLinks<ID>,
    next: *mut ListLinks<ID>,
    entries: PhantomData<&'g T>,
}

impl<'g, T, const ID: u64> Iter<'g, T, ID>
where
    T: HasField<T, ListLinks<ID>>,
{
    /// # Safety
    ///
    /// `sentinel` is a list's sentinel, and every entry reachable from it stays live
    /// for `'g`: a guard or the writer lock is held for `'g`.
    unsafe fn new(sentinel: *mut ListLinks<ID>) -> Self {
        // Acquire pairs with the Release store that published the first entry.
        // SAFETY: the sentinel is live for `'g`.
        let next = unsafe { (*sentinel).next.load(Ordering::Acquire) };
        Iter {
            sentinel,
            next,
            entries: PhantomData,
        }
    }
}

impl<'g, T, const ID: u64> Iterator for Iter<'g, T, ID>
where
    T: HasField<T, ListLinks<ID>>,
{
    type Item = &'g T;

    fn next(&mut self) -> Option<&'g T> {
        let links = self.next;
        if links == self.sentinel {
            return None;
        }

        // SAFETY: `links` was loaded from a `next` that was on the list when this walk's
        // section (or lock) already held, so its entry is reclaimed no earlier than a grace
        // period after removal, which cannot end before `'g` does.
        let entry = unsafe { &*entry_of::<T, ID>(links) };
        // Acquire pairs with the Release store that published the successor, at insertion
        // or when a removal linked past an entry.
        // SAFETY: as above, the links are live; an unlinked entry keeps its `next`.
        self.next = unsafe { (*links).next.load(Ordering::Acquire) };
        Some(entry)
    }
}

impl<T, const ID: u64> FusedIterator for Iter<'_, T, ID> where T: HasField<T, ListLinks<ID>> {}

impl<T, const ID: u64> core::fmt::Debug for Iter<'_, T, ID>
where
    T: HasField<T, ListLinks<ID>>,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}
