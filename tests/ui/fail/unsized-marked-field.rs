use has_field::HasField;

// A marked field must be sized; each of these is rejected at its type.
#[derive(HasField)]
struct Bytes {
    len: usize,
    #[field]
    data: [u8],
}

#[derive(HasField)]
struct Text {
    #[field]
    text: str,
}

#[derive(HasField)]
struct Object {
    #[field]
    object: dyn Send,
}

fn main() {}
