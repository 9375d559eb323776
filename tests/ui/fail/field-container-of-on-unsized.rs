use has_field::{Field, HasField};

struct Link;

impl<T: ?Sized> Field<T> for Link {}

#[derive(HasField)]
struct Packet<T: ?Sized> {
    #[field]
    link: Link,
    payload: T,
}

fn main() {
    let link: *mut Link = core::ptr::null_mut();
    let _ = unsafe { <Packet<[u8]> as HasField<Packet<[u8]>, Link>>::field_container_of(link) };
}
