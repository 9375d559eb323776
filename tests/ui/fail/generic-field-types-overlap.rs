use has_field::{Field, HasField};

struct Link<T>(T);
impl<C, T> Field<C> for Link<T> {}

struct Pair<A, B>(A, B);
impl<C, A, B> Field<C> for Pair<A, B> {}

struct Links<const ID: u8>;
impl<C, const ID: u8> Field<C> for Links<ID> {}

// The two impls overlap for `Node<u8, u8>`. Both field types depend on the parameters,
// so each impl carries a `Field` bound that a restricted `Field` impl could make fail.
// The derive leaves this pair to the compiler, which reports the conflicting impls.
#[derive(HasField)]
struct Node<T, U> {
    #[field]
    first: Link<T>,
    #[field]
    second: Link<U>,
}

// They overlap for `Tagged<1>`.
#[derive(HasField)]
struct Tagged<const N: u8> {
    #[field]
    own: Links<N>,
    #[field]
    fixed: Links<1>,
}

// They overlap for `Wrapped<u16>`.
#[derive(HasField)]
struct Wrapped<T> {
    #[field]
    open: Pair<T, u8>,
    #[field]
    closed: Pair<u16, u8>,
}

struct Tail<T: ?Sized>(core::marker::PhantomData<*const T>);
impl<C, T: ?Sized> Field<C> for Tail<T> {}

struct Plain;

// `T` may be unsized, so it may also be `Plain`: they overlap for `Open<Plain>`.
#[derive(HasField)]
struct Open<T: ?Sized> {
    #[field]
    any: Tail<T>,
    #[field]
    plain: Tail<Plain>,
}

fn main() {}
