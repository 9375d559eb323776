//! `ListLinks`, the intrusive links of an `RcuList`, and the owning pointers a list accepts.

use crate::sync::Ordering;
use crate::{Field, HasField};
use core::cell::UnsafeCell;
use core::ptr::{self, NonNull};
use std::sync::Arc;

#[cfg(not(loom))]
pub(super) use core::sync::atomic::AtomicPtr;
#[cfg(loom)]
pub(super) use loom::sync::atomic::AtomicPtr;

/// The `owner` value of an entry that was unlinked and whose grace period has not ended.
/// Its address is distinct from every list's sentinel, because both are live objects.
static UNLINKED_MARKER: u8 = 0;

pub(super) fn unlinked_marker() -> *mut () {
    (&raw const UNLINKED_MARKER).cast_mut().cast()
}

/// The intrusive links that put a value on an [`RcuList`](super::RcuList): the next and
/// previous entries, and the list that the value is on.
///
/// Embed one per list that the value should be able to join, each with its own `ID`,
/// and mark it `#[field]` under `#[derive(HasField)]`. A list of type `RcuList<T, ID>`
/// links its entries through their `ListLinks<ID>` field. The links are three words and
/// start out unlinked; only the list reads or writes them.
///
/// ```
/// use rcu::{HasField, ListLinks};
///
/// #[derive(HasField)]
/// #[has_field(crate = "rcu::has_field")]
/// struct Task {
///     id: u32,
///     #[field]
///     by_queue: ListLinks<0>,
///     #[field]
///     by_owner: ListLinks<1>,
/// }
///
/// let task = Task { id: 1, by_queue: ListLinks::new(), by_owner: ListLinks::new() };
/// # drop(task);
/// ```
pub struct ListLinks<const ID: u64 = 0> {
    /// The next entry, or the list's sentinel after the last entry. Readers load it.
    /// An unlinked entry keeps it until it is reclaimed, so a reader standing on the
    /// entry can still walk on.
    pub(super) next: AtomicPtr<ListLinks<ID>>,
    /// The previous entry or the sentinel. Read and written only by the writer holding the
    /// lock of the list that the entry is on.
    pub(super) prev: UnsafeCell<*mut ListLinks<ID>>,
    /// Null when the value is on no list, the sentinel of its list while linked, and
    /// [`unlinked_marker`] from removal until its grace period has ended.
    pub(super) owner: AtomicPtr<()>,
}

// SAFETY: `next` and `owner` are atomics. `prev` is accessed only by the thread that holds
// the writer lock of the list the links are on, or by the sole owner of an unlinked entry
// after its grace period. Either excludes every other access.
unsafe impl<const ID: u64> Send for ListLinks<ID> {}
// SAFETY: as above; a shared `&ListLinks` gives no access to `prev` outside the list.
unsafe impl<const ID: u64> Sync for ListLinks<ID> {}

impl<const ID: u64> ListLinks<ID> {
    /// Returns unlinked links.
    ///
    /// ```
    /// let links: rcu::ListLinks<1> = rcu::ListLinks::new();
    /// # drop(links);
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        ListLinks {
            next: AtomicPtr::new(ptr::null_mut()),
            prev: UnsafeCell::new(ptr::null_mut()),
            owner: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Returns unlinked links. (Not `const` under loom, whose atomics cannot be.)
    #[cfg(loom)]
    pub fn new() -> Self {
        ListLinks {
            next: AtomicPtr::new(ptr::null_mut()),
            prev: UnsafeCell::new(ptr::null_mut()),
            owner: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Marks unlinked links free again and forgets their neighbours.
    ///
    /// # Safety
    ///
    /// `links` points to links that are on no list, and no reader can still reach them
    /// through a list: their grace period has ended, or their list was dropped.
    pub(super) unsafe fn reset(links: *mut Self) {
        // SAFETY: per the contract, nothing else accesses the links.
        let links = unsafe { &*links };
        links.next.store(ptr::null_mut(), Ordering::Relaxed);
        // SAFETY: the caller is the only one who may touch `prev`.
        unsafe { *links.prev.get() = ptr::null_mut() };
        // Release pairs with the Acquire compare-exchange in `RcuList`'s insertion: the
        // next list to link the value sees these links after every earlier write to them.
        links.owner.store(ptr::null_mut(), Ordering::Release);
    }
}

impl<const ID: u64> Default for ListLinks<ID> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const ID: u64> core::fmt::Debug for ListLinks<ID> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Relaxed: a diagnostic snapshot.
        let owner = self.owner.load(Ordering::Relaxed);
        let state = if owner.is_null() {
            "unlinked"
        } else if owner == unlinked_marker() {
            "removed, awaiting a grace period"
        } else {
            "linked"
        };
        f.debug_struct("ListLinks")
            .field("id", &ID)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

/// Every container may hold `ListLinks`.
impl<T: ?Sized, const ID: u64> Field<T> for ListLinks<ID> {}

mod sealed {
    pub trait Sealed {}
}

/// An owning pointer that an [`RcuList`](super::RcuList) can hold: [`Box<T>`] or
/// [`Arc<T>`].
///
/// A `Box` gives the list sole ownership. An `Arc` lets one value sit on several lists
/// (through distinct `ListLinks<ID>` fields), each list holding one strong count, and
/// lets other code keep counts too. The trait is sealed.
pub trait ListPointer<T>: sealed::Sealed {
    /// Gives up ownership as a pointer with provenance over the whole value.
    #[doc(hidden)]
    fn into_raw(this: Self) -> NonNull<T>;

    /// Takes back the ownership that `into_raw` gave up.
    ///
    /// # Safety
    ///
    /// `ptr` came from `into_raw` of the same pointer type, and is taken back once.
    #[doc(hidden)]
    unsafe fn from_raw(ptr: NonNull<T>) -> Self;
}

impl<T> sealed::Sealed for Box<T> {}

impl<T> ListPointer<T> for Box<T> {
    fn into_raw(this: Self) -> NonNull<T> {
        // SAFETY: `Box::into_raw` never returns null.
        unsafe { NonNull::new_unchecked(Box::into_raw(this)) }
    }

    unsafe fn from_raw(ptr: NonNull<T>) -> Self {
        // SAFETY: the caller passes a pointer from `Box::into_raw`, once.
        unsafe { Box::from_raw(ptr.as_ptr()) }
    }
}

impl<T> sealed::Sealed for Arc<T> {}

impl<T> ListPointer<T> for Arc<T> {
    fn into_raw(this: Self) -> NonNull<T> {
        // SAFETY: `Arc::into_raw` never returns null.
        unsafe { NonNull::new_unchecked(Arc::into_raw(this).cast_mut()) }
    }

    unsafe fn from_raw(ptr: NonNull<T>) -> Self {
        // SAFETY: the caller passes a pointer from `Arc::into_raw`, once.
        unsafe { Arc::from_raw(ptr.as_ptr()) }
    }
}

/// Projects a container to its links.
///
/// # Safety
///
/// `entry` points to a live `T`.
pub(super) unsafe fn links_of<T, const ID: u64>(entry: *mut T) -> *mut ListLinks<ID>
where
    T: HasField<T, ListLinks<ID>>,
{
    // SAFETY: forwarded from the caller.
    unsafe { <T as HasField<T, ListLinks<ID>>>::raw_get_field(entry) }
}

/// Returns the container of `links`.
///
/// # Safety
///
/// `links` came from [`links_of`] and its container is live.
pub(super) unsafe fn entry_of<T, const ID: u64>(links: *mut ListLinks<ID>) -> *mut T
where
    T: HasField<T, ListLinks<ID>>,
{
    // SAFETY: forwarded from the caller.
    unsafe { <T as HasField<T, ListLinks<ID>>>::field_container_of(links) }
}
