//! Intrusive fields as a type-level fact.
//!
//! An intrusive data structure keeps its bookkeeping inside the values it organizes: a
//! list node embeds its `next` link, an RCU callback embeds its callback head. The
//! structure stores pointers to those embedded fields. To hand a value back, it must get
//! from a field pointer to the value that contains it. C does that with `container_of`,
//! one macro call per field, and a Rust crate usually adds one trait per kind of field.
//!
//! This crate replaces those traits with two generic ones:
//!
//! - [`Field<T>`] is implemented by a field *type* to say that it may be embedded in a
//!   container `T`. A link type usually admits every container:
//!   `impl<T> Field<T> for Link {}`.
//! - [`HasField<T, F>`] is implemented by the container and names one of its fields by
//!   that field's type `F`. It converts a container pointer to the field pointer
//!   ([`raw_get_field`](HasField::raw_get_field)) and back
//!   ([`field_container_of`](HasField::field_container_of)).
//!
//! A data structure is then generic over its elements: a list of `T` linked through
//! `Link` asks for `T: HasField<T, Link>` and works for every type that embeds a `Link`.
//! `#[derive(HasField)]` writes the impls, one per field marked `#[field]`.
//!
//! # Pointers and provenance
//!
//! Both conversions take and return raw pointers, and both keep the provenance of the
//! pointer they are given: the field pointer is derived from the container pointer by a
//! place projection, and the container pointer from the field pointer by subtracting the
//! field's offset with
//! [`byte_sub`](https://doc.rust-lang.org/core/primitive.pointer.html#method.byte_sub-1).
//! Neither goes through an integer. So a field pointer that came from `raw_get_field` on
//! a pointer with access to the whole container (from
//! [`Box::into_raw`](https://doc.rust-lang.org/std/boxed/struct.Box.html#method.into_raw),
//! from `&raw mut value`, or from `&mut value as *mut _`) leads back to a container
//! pointer that may read and write every field.
//!
//! A pointer made from a reference to the field alone, such as `&mut value.link as *mut
//! Link`, is different: under Stacked Borrows it may access only the field's bytes, and the
//! container pointer computed from it may not touch the other fields. That is why this
//! crate offers no conversion from `&F` or `&mut F` to a reference to the container.
//!
//! # Example: an intrusive stack
//!
//! A stack of boxed values that threads them through their own `Link` field, so pushing
//! allocates nothing. The stack works for any element type that embeds a `Link`.
//!
//! ```
//! use core::marker::PhantomData;
//! use core::ptr;
//!
//! use has_field::{Field, HasField};
//!
//! /// The link that puts a value on a `Stack`.
//! pub struct Link {
//!     next: *mut Link,
//! }
//!
//! impl Link {
//!     pub const fn new() -> Self {
//!         Link { next: ptr::null_mut() }
//!     }
//! }
//!
//! // Any struct may embed a `Link`.
//! impl<T> Field<T> for Link {}
//!
//! /// A stack that owns its boxed elements and links them through their `Link` field.
//! pub struct Stack<T: HasField<T, Link>> {
//!     head: *mut Link,
//!     elements: PhantomData<Box<T>>,
//! }
//!
//! impl<T: HasField<T, Link>> Stack<T> {
//!     pub fn new() -> Self {
//!         Stack { head: ptr::null_mut(), elements: PhantomData }
//!     }
//!
//!     pub fn push(&mut self, element: Box<T>) {
//!         let container = Box::into_raw(element);
//!         // SAFETY: `container` comes from `Box::into_raw`, so it points to a valid `T`.
//!         let link = unsafe { T::raw_get_field(container) };
//!         // SAFETY: `link` points into the allocation that the stack now owns.
//!         unsafe { (*link).next = self.head };
//!         self.head = link;
//!     }
//!
//!     pub fn pop(&mut self) -> Option<Box<T>> {
//!         let link = self.head;
//!         if link.is_null() {
//!             return None;
//!         }
//!         // SAFETY: every link on the stack is inside an element that `push` leaked.
//!         self.head = unsafe { (*link).next };
//!         // SAFETY: `link` came from `raw_get_field` on a pointer from `Box::into_raw`,
//!         // so `field_container_of` returns that pointer, with the box's provenance.
//!         Some(unsafe { Box::from_raw(T::field_container_of(link)) })
//!     }
//! }
//!
//! impl<T: HasField<T, Link>> Drop for Stack<T> {
//!     fn drop(&mut self) {
//!         while self.pop().is_some() {}
//!     }
//! }
//!
//! #[derive(HasField)]
//! struct Job {
//!     id: u32,
//!     #[field]
//!     link: Link,
//! }
//!
//! let mut jobs = Stack::new();
//! jobs.push(Box::new(Job { id: 1, link: Link::new() }));
//! jobs.push(Box::new(Job { id: 2, link: Link::new() }));
//!
//! assert_eq!(jobs.pop().map(|job| job.id), Some(2));
//! assert_eq!(jobs.pop().map(|job| job.id), Some(1));
//! assert!(jobs.pop().is_none());
//! ```
//!
//! # Example: one struct on two lists
//!
//! `HasField` selects a field by its type, so a struct that sits on two lists needs two
//! link fields of distinct types. A const parameter on the link type tells them apart,
//! and each list names the link it uses. Here requests are linked by arrival and by
//! priority; the lists do not own the requests, which live on the stack.
//!
//! ```
//! use core::iter;
//! use core::marker::PhantomData;
//! use core::ptr;
//!
//! use has_field::{Field, HasField};
//!
//! /// The link that puts a value on the lists numbered `LIST`.
//! pub struct Link<const LIST: usize> {
//!     next: *mut Link<LIST>,
//! }
//!
//! impl<const LIST: usize> Link<LIST> {
//!     pub const fn new() -> Self {
//!         Link { next: ptr::null_mut() }
//!     }
//! }
//!
//! impl<T, const LIST: usize> Field<T> for Link<LIST> {}
//!
//! /// A singly linked list of values that live elsewhere, linked through `Link<LIST>`.
//! pub struct List<T: HasField<T, Link<LIST>>, const LIST: usize> {
//!     head: *mut Link<LIST>,
//!     elements: PhantomData<*mut T>,
//! }
//!
//! impl<T: HasField<T, Link<LIST>>, const LIST: usize> List<T, LIST> {
//!     pub fn new() -> Self {
//!         List { head: ptr::null_mut(), elements: PhantomData }
//!     }
//!
//!     /// Links `element` in at the front.
//!     ///
//!     /// # Safety
//!     ///
//!     /// - `element` points to a valid `T` that outlives the list and is not moved
//!     ///   while on it.
//!     /// - `element` is on no other list that uses `Link<LIST>`.
//!     pub unsafe fn push_front(&mut self, element: *mut T) {
//!         // SAFETY: the caller guarantees that `element` points to a valid `T`.
//!         let link = unsafe { T::raw_get_field(element) };
//!         // SAFETY: `link` points into that `T`, which nothing else links through it.
//!         unsafe { (*link).next = self.head };
//!         self.head = link;
//!     }
//!
//!     /// Returns the elements from front to back.
//!     pub fn iter(&self) -> impl Iterator<Item = *mut T> + '_ {
//!         let mut link = self.head;
//!         iter::from_fn(move || {
//!             if link.is_null() {
//!                 return None;
//!             }
//!             // SAFETY: `push_front` put `link` on the list with `raw_get_field` on a
//!             // pointer to a `T` that is still alive.
//!             let element = unsafe { T::field_container_of(link) };
//!             // SAFETY: as above, `link` points to a live `Link<LIST>`.
//!             link = unsafe { (*link).next };
//!             Some(element)
//!         })
//!     }
//! }
//!
//! #[derive(HasField)]
//! struct Request {
//!     id: u32,
//!     priority: u8,
//!     #[field]
//!     by_arrival: Link<0>,
//!     #[field]
//!     by_priority: Link<1>,
//! }
//!
//! let mut first = Request { id: 1, priority: 0, by_arrival: Link::new(), by_priority: Link::new() };
//! let mut second = Request { id: 2, priority: 9, by_arrival: Link::new(), by_priority: Link::new() };
//! let (first, second) = (&raw mut first, &raw mut second);
//!
//! let mut by_arrival: List<Request, 0> = List::new();
//! let mut by_priority: List<Request, 1> = List::new();
//! // SAFETY: both requests outlive both lists and stay in place, and each is pushed once
//! // onto each list.
//! unsafe {
//!     by_arrival.push_front(second);
//!     by_arrival.push_front(first);
//!     by_priority.push_front(first);
//!     by_priority.push_front(second);
//! }
//!
//! // SAFETY: the lists hold pointers to the two live requests.
//! let arrival_ids: Vec<u32> = by_arrival.iter().map(|r| unsafe { (*r).id }).collect();
//! // SAFETY: as above.
//! let priority_ids: Vec<u32> = by_priority.iter().map(|r| unsafe { (*r).id }).collect();
//! assert_eq!(arrival_ids, [1, 2]);
//! assert_eq!(priority_ids, [2, 1]);
//!
//! // The container pointer reached through a link may write any field.
//! for request in by_priority.iter() {
//!     // SAFETY: `request` came from `field_container_of` with the provenance of
//!     // `&raw mut` on the whole request.
//!     unsafe { (*request).priority += 1 };
//! }
//! // SAFETY: as above.
//! unsafe { assert_eq!(((*first).priority, (*second).priority), (1, 10)) };
//! ```
//!
//! # Features
//!
//! - `derive` (default): re-exports `#[derive(HasField)]` from `has-field-derive`.
#![no_std]

#[cfg(test)]
extern crate std;

/// Derives [`HasField`](trait@HasField) for each field marked `#[field]`.
///
/// See the [trait's documentation](trait@HasField#deriving) for the attributes, the
/// generated code and the inputs the derive rejects.
#[cfg(feature = "derive")]
pub use has_field_derive::HasField;

/// A type that may be embedded as an intrusive field of the container `T`.
///
/// Implemented by the *field type*, not by the container. It is the field type's opt-in:
/// a container can expose a field through [`HasField`] only when the field's type admits
/// that container. `impl<T: ?Sized> Field<T> for Link {}` admits every container, unsized
/// ones included, which suits link types.
///
/// # Example
///
/// ```
/// use has_field::Field;
///
/// /// The callback head that a deferred-free queue links through.
/// pub struct CallbackHead {
///     next: *mut CallbackHead,
///     func: Option<unsafe fn(*mut CallbackHead)>,
/// }
///
/// impl<T: ?Sized> Field<T> for CallbackHead {}
///
/// fn assert_field<T, F: Field<T>>() {}
/// assert_field::<u64, CallbackHead>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not declared as an intrusive field of `{T}`",
    label = "`{Self}` does not implement `Field<{T}>`",
    note = "write `impl Field<{T}> for {Self} {{}}`, or `impl<T> Field<T> for {Self} {{}}` to admit every container"
)]
pub trait Field<T: ?Sized> {}

/// A container `Self` that exposes its one field of type `F` for intrusive use.
///
/// `T` is the container type, the same as `Self`. It is a parameter because [`Field<T>`]
/// needs it, so that a field type can restrict the containers it may be embedded in.
///
/// Implement it with `#[derive(HasField)]`, described [below](#deriving), rather than by
/// hand.
///
/// # Safety
///
/// An implementation promises, for the one field of type `F` that it names:
///
/// - The field exists and both functions refer to it.
/// - [`raw_get_field`](Self::raw_get_field)`(ptr)` returns a pointer to that field inside
///   `*ptr`, derived from `ptr` so that it carries the same provenance (no integer round
///   trip, no intermediate reference).
/// - [`field_container_of`](Self::field_container_of)`(raw_get_field(ptr)) == ptr` and
///   `raw_get_field(field_container_of(f)) == f`: the two are exact inverses, and the
///   container pointer is derived from the field pointer, again with the same provenance.
/// - The field is aligned for `F` whenever the container is aligned, so the struct is not
///   `#[repr(packed)]`.
///
/// The derive meets each requirement, and the compiler checks its work where it can:
///
/// - It names the field in both functions by the same member, `(*ptr).field` and
///   `offset_of!(Self, field)`, so they cannot disagree.
/// - The projection is `&raw mut (*ptr).field`, which creates no reference, and the
///   inverse is `ptr.byte_sub(offset_of!(Self, field))`, which keeps `ptr`'s provenance.
/// - It rejects `#[repr(packed)]` when it can read the attribute, and emits a function
///   that is never called and borrows each marked field, which fails to compile for a
///   packed layout that another macro added.
/// - It rejects two marked fields with the same type, which would need two impls of one
///   trait.
///
/// # Deriving
///
/// `#[derive(HasField)]` on a struct emits one `unsafe impl HasField<Self, F> for Self`
/// for each field marked `#[field]`, where `F` is the field's type as written:
///
/// ```
/// use has_field::{Field, HasField};
///
/// pub struct Link {
///     next: *mut Link,
/// }
///
/// // `?Sized` admits unsized containers such as `Node<'_, [u8]>` as well.
/// impl<T: ?Sized> Field<T> for Link {}
///
/// #[derive(HasField)]
/// #[repr(C)]
/// struct Node<'a, V: ?Sized> {
///     name: &'a str,
///     #[field]
///     link: Link,
///     value: V,
/// }
///
/// let mut node = Node { name: "a", link: Link { next: core::ptr::null_mut() }, value: 7 };
/// let node_ptr = &raw mut node;
/// // SAFETY: `node_ptr` points to a live `Node`.
/// let link = unsafe { Node::raw_get_field(node_ptr) };
/// assert_eq!(link.addr() - node_ptr.addr(), core::mem::offset_of!(Node<'static, i32>, link));
/// // SAFETY: `link` came from `raw_get_field`.
/// assert_eq!(unsafe { Node::field_container_of(link) }, node_ptr);
/// ```
///
/// It accepts named and tuple structs, lifetimes, type and const parameters with bounds,
/// defaults and where clauses, `?Sized` parameters, raw identifiers, `#[cfg]` on fields,
/// structs written by `macro_rules!`, `#[repr(C)]`, `#[repr(align(N))]`, and field types
/// that mention the container or `Self`. For a `?Sized` container, `raw_get_field` works
/// on an unsized value and `field_container_of` exists only where the container is sized.
///
/// Generated code names every item by absolute path, so it compiles next to a user's own
/// `core`, `std`, `Result`, `Option`, `Box` or `HasField`, and in a
/// `#![no_implicit_prelude]` module. The path it uses for this crate is, in order:
///
/// 1. the path in `#[has_field(crate = "...")]` on the struct, when there is one;
/// 2. otherwise the name of the `has-field` dependency in the `Cargo.toml` of the crate
///    being compiled, such as `::has_field`, or `::hf` after
///    `hf = { package = "has-field", ... }`;
/// 3. otherwise the name of the `rcu` dependency followed by `has_field`, such as
///    `::rcu::has_field`, so a crate that depends only on `rcu` needs no attribute;
/// 4. otherwise, and in the `has-field` package itself, `::has_field`.
///
/// A dependency in `[dependencies]` is preferred to a target-specific one, and those to
/// dev and build dependencies. The derive reads only the crate's own manifest, so a
/// dependency renamed in `[workspace.dependencies]` is not recognised.
///
/// The attribute is still needed when the derive is reached through a crate other than
/// `has-field` or `rcu`, in the way `#[serde(crate = "...")]` works. The path must name a
/// module that contains `HasField`:
///
/// ```
/// /// What a crate such as `rcu` re-exports as `rcu::has_field`.
/// mod reexport {
///     pub use ::has_field::{Field, HasField};
/// }
///
/// #[derive(reexport::HasField)]
/// #[has_field(crate = "crate::reexport")]
/// struct Wrapper {
///     #[field]
///     count: Counter,
/// }
///
/// struct Counter(u64);
/// impl reexport::Field<Wrapper> for Counter {}
/// # fn main() {
/// # use has_field::HasField;
/// # let mut wrapper = Wrapper { count: Counter(3) };
/// # // SAFETY: the pointer comes from a live `Wrapper`.
/// # let count = unsafe { Wrapper::raw_get_field(&raw mut wrapper) };
/// # // SAFETY: `count` points into `wrapper`.
/// # assert_eq!(unsafe { (*count).0 }, 3);
/// # }
/// ```
///
/// The derive rejects the following inputs, each with an error at the offending token:
///
/// - enums, unions, unit structs, and structs with no marked field;
/// - `#[repr(packed)]` and `#[repr(packed(N))]`;
/// - arguments or values on `#[field]`, and a repeated `#[field]`;
/// - unknown or malformed `#[has_field(...)]` arguments;
/// - two marked fields whose types are written the same;
/// - a marked field whose type is a slice, `str` or a trait object: `F` must be sized;
/// - two marked fields whose types differ as written but become one type for some choice
///   of the struct's parameters: their two impls would overlap, and the error names the
///   parameter values where they do. This covers a bare `T` beside any field type that
///   does not contain `T`, and pairs where one type has no parameters, such as
///   `Links<N>` beside `Links<1>` or `Pair<T, u8>` beside `Pair<u16, u8>`.
///
/// The derive decides the last rule by unifying the types as written. Where it cannot be
/// sure, it leaves the pair to the compiler, which reports conflicting impls (E0119) at
/// the derive if they do overlap. That happens for:
///
/// - two types that both depend on the parameters, such as `Link<T>` beside `Link<U>`,
///   because a `Field` impl for only some containers can keep them apart and the derive
///   cannot see impls;
/// - associated types, function pointers, trait objects and const expressions inside
///   the types;
/// - a parameter with a trait bound;
/// - a sized parameter that would have to become a named type, which the derive cannot
///   tell is sized.
///
/// It reports every error in the input at once.
///
/// ```compile_fail
/// # use has_field::{Field, HasField};
/// # pub struct Link;
/// # impl<T> Field<T> for Link {}
/// #[derive(HasField)]
/// struct TwoLists {
///     #[field]
///     first: Link,
///     #[field]
///     second: Link, // error: `HasField` selects a field by its type
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no field of type `{F}` exposed through `HasField`",
    label = "`{Self}` does not implement `HasField<{T}, {F}>`",
    note = "mark the field of type `{F}` with `#[field]` and derive `HasField` on `{Self}`"
)]
pub unsafe trait HasField<T: ?Sized, F: Field<T>> {
    /// Projects a container pointer to the pointer of its `F` field.
    ///
    /// The result is derived from `ptr` and has its provenance, so it may access whatever
    /// part of the field `ptr` may access.
    ///
    /// # Safety
    ///
    /// `ptr` points into a live allocation that has room for a `Self` at `ptr`, and for
    /// an unsized `Self` its metadata is valid. The `Self` need not be initialized,
    /// because the projection creates no reference and reads nothing.
    ///
    /// # Example
    ///
    /// ```
    /// use has_field::{Field, HasField};
    ///
    /// struct Tag(u8);
    /// impl<T> Field<T> for Tag {}
    ///
    /// #[derive(HasField)]
    /// struct Item {
    ///     weight: u32,
    ///     #[field]
    ///     tag: Tag,
    /// }
    ///
    /// let mut item = Item { weight: 5, tag: Tag(1) };
    /// // SAFETY: the pointer comes from a live `Item`.
    /// let tag = unsafe { Item::raw_get_field(&raw mut item) };
    /// // SAFETY: `tag` points into `item`, which is still alive.
    /// unsafe { (*tag).0 = 2 };
    /// assert_eq!(item.tag.0, 2);
    /// ```
    unsafe fn raw_get_field(ptr: *mut Self) -> *mut F;

    /// Returns the container of the `F` field that `ptr` points to.
    ///
    /// The result is derived from `ptr` and has its provenance: it may access the whole
    /// container only if `ptr` may, which holds when `ptr` came from
    /// [`raw_get_field`](Self::raw_get_field) on a pointer to the whole container.
    ///
    /// # Safety
    ///
    /// - `ptr` points to the `F` field inside a live allocation that contains a `Self`.
    /// - To access the container through the result beyond the field, `ptr` must carry
    ///   provenance over the whole container. A pointer made from `&mut field` does not.
    ///
    /// # Example
    ///
    /// ```
    /// use has_field::{Field, HasField};
    ///
    /// struct Tag(u8);
    /// impl<T> Field<T> for Tag {}
    ///
    /// #[derive(HasField)]
    /// struct Item {
    ///     weight: u32,
    ///     #[field]
    ///     tag: Tag,
    /// }
    ///
    /// let mut item = Item { weight: 5, tag: Tag(1) };
    /// let item_ptr = &raw mut item;
    /// // SAFETY: the pointer comes from a live `Item`.
    /// let tag = unsafe { Item::raw_get_field(item_ptr) };
    /// // SAFETY: `tag` points to the `Tag` field of `item` and has the provenance of
    /// // `item_ptr`, which covers the whole item.
    /// let container = unsafe { Item::field_container_of(tag) };
    /// assert_eq!(container, item_ptr);
    /// // SAFETY: `container` is `item_ptr`, with its provenance.
    /// unsafe { (*container).weight = 6 };
    /// assert_eq!(item.weight, 6);
    /// ```
    unsafe fn field_container_of(ptr: *mut F) -> *mut Self
    where
        Self: Sized;
}

#[cfg(test)]
mod tests;
