#[path = "../support.rs"]
mod support;

use core::mem::offset_of;

use has_field::{Field, HasField};
use support::check_round_trip;

struct Pair<A, B>(A, B);
impl<C, A, B> Field<C> for Pair<A, B> {}

struct Link<T>(T);
impl<C, T> Field<C> for Link<T> {}

struct Links<const ID: u8>;
impl<C, const ID: u8> Field<C> for Links<ID> {}

/// A local trait that `u8` does not implement, so the compiler can tell that `T` is never
/// `u8` and that the impls for `Link<T>` and `Link<u8>` cannot overlap.
trait Local {}
impl Local for u16 {}

// Each pair of marked field types below looks alike but is never one type: `T` cannot be
// both `u8` and `u16`, `T` cannot equal `Box<T>`, 0 is not 1, and a bounded `T` is never
// `u8`. The derive must accept all of them, as the compiler does.
#[derive(HasField)]
struct Mixed<T: Local> {
    #[field]
    both: Pair<T, T>,
    #[field]
    fixed: Pair<u8, u16>,
    #[field]
    plain: Link<Box<T>>,
    #[field]
    boxed: Link<Box<Box<T>>>,
    #[field]
    first: Links<0>,
    #[field]
    second: Links<1>,
    #[field]
    bounded: Link<T>,
    #[field]
    concrete: Link<u8>,
}

/// A link that may name an unsized type.
struct Tail<T: ?Sized>(core::marker::PhantomData<*const T>);
impl<C, T: ?Sized> Field<C> for Tail<T> {}

/// A struct that ends in a slice, so it is unsized.
struct Dst {
    _bytes: [u8],
}

// `T` is sized, as a type parameter is unless declared `?Sized`, so it is never `Dst` or
// `str`: these three impls cannot overlap, and the compiler knows it.
#[derive(HasField)]
struct Sizes<T> {
    #[field]
    any: Tail<T>,
    #[field]
    dst: Tail<Dst>,
    #[field]
    text: Tail<str>,
}

// `T` is never `Link<T>`, so a bare type parameter may sit beside a link of it.
#[derive(HasField)]
struct Wrapper<T> {
    #[field]
    value: T,
    #[field]
    link: Link<T>,
}

/// A link that only one container may hold, in two places.
struct OwnedLink<const LIST: usize>;

// `Link<A>` and `Link<B>` would be one type for `Entry<0, 0>`, but `Field` is implemented
// only for the links of `Entry<0, 1>`, so the compiler proves that the two impls never
// apply to one type, and accepts them.
#[derive(HasField)]
struct Entry<const A: usize, const B: usize> {
    #[field]
    first: OwnedLink<A>,
    #[field]
    second: OwnedLink<B>,
}
impl Field<Entry<0, 1>> for OwnedLink<0> {}
impl Field<Entry<0, 1>> for OwnedLink<1> {}

fn main() {
    let mut mixed = Mixed {
        both: Pair(1u16, 2),
        fixed: Pair(3, 4),
        plain: Link(Box::new(5)),
        boxed: Link(Box::new(Box::new(6))),
        first: Links,
        second: Links,
        bounded: Link(7),
        concrete: Link(8),
    };
    type M = Mixed<u16>;
    check_round_trip::<M, Pair<u16, u16>>(&mut mixed, offset_of!(M, both));
    check_round_trip::<M, Pair<u8, u16>>(&mut mixed, offset_of!(M, fixed));
    check_round_trip::<M, Link<Box<u16>>>(&mut mixed, offset_of!(M, plain));
    check_round_trip::<M, Link<Box<Box<u16>>>>(&mut mixed, offset_of!(M, boxed));
    check_round_trip::<M, Links<0>>(&mut mixed, offset_of!(M, first));
    check_round_trip::<M, Links<1>>(&mut mixed, offset_of!(M, second));
    check_round_trip::<M, Link<u16>>(&mut mixed, offset_of!(M, bounded));
    check_round_trip::<M, Link<u8>>(&mut mixed, offset_of!(M, concrete));
    assert_eq!((mixed.both.0, mixed.fixed.1, *mixed.plain.0, **mixed.boxed.0), (1, 4, 5, 6));
    assert_eq!((mixed.bounded.0, mixed.concrete.0), (7, 8));

    let mut sizes = Sizes::<u8> {
        any: Tail(core::marker::PhantomData),
        dst: Tail(core::marker::PhantomData),
        text: Tail(core::marker::PhantomData),
    };
    type Z = Sizes<u8>;
    check_round_trip::<Z, Tail<u8>>(&mut sizes, offset_of!(Z, any));
    check_round_trip::<Z, Tail<Dst>>(&mut sizes, offset_of!(Z, dst));
    check_round_trip::<Z, Tail<str>>(&mut sizes, offset_of!(Z, text));

    let mut entry = Entry::<0, 1> { first: OwnedLink, second: OwnedLink };
    check_round_trip::<Entry<0, 1>, OwnedLink<0>>(&mut entry, offset_of!(Entry<0, 1>, first));
    check_round_trip::<Entry<0, 1>, OwnedLink<1>>(&mut entry, offset_of!(Entry<0, 1>, second));

    let mut wrapper = Wrapper { value: Links::<2>, link: Link(Links::<2>) };
    type W = Wrapper<Links<2>>;
    check_round_trip::<W, Links<2>>(&mut wrapper, offset_of!(W, value));
    check_round_trip::<W, Link<Links<2>>>(&mut wrapper, offset_of!(W, link));
}
