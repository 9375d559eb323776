#[path = "../support.rs"]
mod support;

use core::fmt::Debug;
use core::mem::offset_of;

use has_field::HasField;
use support::{Link, check_round_trip};

#[derive(HasField)]
struct Entry<K: Ord + Clone, V, F>
where
    V: Default + Debug,
    F: for<'x> Fn(&'x K) -> usize,
{
    key: K,
    value: V,
    hash: F,
    #[field]
    link: Link,
}

fn widen(key: &u8) -> usize {
    usize::from(*key)
}

fn main() {
    let hash: fn(&u8) -> usize = widen;
    let mut entry = Entry { key: 7u8, value: String::new(), hash, link: Link::new() };
    check_round_trip::<Entry<u8, String, fn(&u8) -> usize>, Link>(
        &mut entry,
        offset_of!(Entry<u8, String, fn(&u8) -> usize>, link),
    );
    assert_eq!((entry.hash)(&entry.key), 7);
    assert!(entry.value.is_empty());
}
