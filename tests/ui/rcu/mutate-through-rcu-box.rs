// Borrows from `with_rcu` may be alive, so an `RcuBox` never hands out `&mut T`.

fn main() {
    let mut boxed = rcu::RcuBox::new(1);
    *boxed = 2;
}
