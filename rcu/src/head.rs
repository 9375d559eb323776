//! `RcuHead`, the intrusive callback head, and `HasRcuHead`.

use crate::{Field, HasField};
use core::cell::UnsafeCell;
use core::ptr;

/// The callback function type of [`call_rcu`](crate::call_rcu): it receives the head it
/// was queued with.
///
/// ```
/// use rcu::{RcuCallbackFn, RcuHead};
///
/// unsafe fn ignore_head(_head: *mut RcuHead) {}
///
/// let callback: RcuCallbackFn = ignore_head;
/// # let _ = callback;
/// ```
pub type RcuCallbackFn = unsafe fn(*mut RcuHead);

/// The intrusive head that [`call_rcu`](crate::call_rcu) links into its queue: two words,
/// the next pointer and the callback.
///
/// Embed one in a struct, mark it `#[field]` under `#[derive(HasField)]`, and the struct
/// implements [`HasRcuHead`] with no other code:
///
/// ```
/// use rcu::{HasField, RcuHead};
///
/// #[derive(HasField)]
/// #[has_field(crate = "rcu::has_field")]
/// struct Node {
///     value: u64,
///     #[field]
///     head: RcuHead,
/// }
///
/// fn takes_head<T: rcu::HasRcuHead>() {}
/// takes_head::<Node>();
/// ```
#[repr(C)]
pub struct RcuHead {
    pub(crate) next: UnsafeCell<*mut RcuHead>,
    pub(crate) func: UnsafeCell<Option<RcuCallbackFn>>,
}

// SAFETY: the head is inert storage. Its fields are written by `call_rcu`, whose caller
// hands over the head exclusively, and read by the callback thread after it takes the head
// from the queue, which synchronizes with the push. Nothing else reads them.
unsafe impl Send for RcuHead {}
// SAFETY: as above; a shared `&RcuHead` gives no access to the fields.
unsafe impl Sync for RcuHead {}

impl RcuHead {
    /// Returns an unqueued head.
    ///
    /// ```
    /// let head = rcu::RcuHead::new();
    /// # drop(head);
    /// ```
    pub const fn new() -> Self {
        RcuHead {
            next: UnsafeCell::new(ptr::null_mut()),
            func: UnsafeCell::new(None),
        }
    }
}

impl Default for RcuHead {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for RcuHead {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RcuHead").finish_non_exhaustive()
    }
}

/// Every container may hold an `RcuHead`.
impl<T: ?Sized> Field<T> for RcuHead {}

/// A type with an [`RcuHead`] field: a name for `HasField<Self, RcuHead>`.
///
/// Implemented for every type that implements `HasField<Self, RcuHead>`, which
/// `#[derive(HasField)]` provides for a `#[field]` of type `RcuHead`.
///
/// ```
/// use rcu::{HasField, HasRcuHead, RcuHead};
///
/// #[derive(HasField)]
/// #[has_field(crate = "rcu::has_field")]
/// struct Node {
///     value: u32,
///     #[field]
///     head: RcuHead,
/// }
///
/// // Generic code can retire any such container.
/// fn retire<T: HasRcuHead + Send + 'static>(node: Box<T>) {
///     rcu::kfree_rcu(node);
/// }
///
/// retire(Box::new(Node { value: 1, head: RcuHead::new() }));
/// rcu::rcu_barrier();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `RcuHead` field exposed through `HasField`",
    label = "`{Self}` needs an `RcuHead` field marked `#[field]`",
    note = "add a field `rcu_head: rcu::RcuHead` to `{Self}`, mark it `#[field]`, and put \
            `#[derive(rcu::HasField)]` on `{Self}`; for a type you cannot change, such as \
            `u32`, use `RcuBox<T>` or `DeferredRcu<T>`, which carry the head for you"
)]
pub trait HasRcuHead: HasField<Self, RcuHead> {}

impl<T: HasField<T, RcuHead> + ?Sized> HasRcuHead for T {}
