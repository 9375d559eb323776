//! `#[derive(rcu::HasField)]` with no `#[has_field(crate = "...")]`: the derive finds the
//! `has_field` crate from the manifest. A trybuild project depends on both `has-field`
//! and `rcu`, so here the path is `::has_field`. The derive's unit tests cover a manifest
//! with only `rcu`, where the path is `::rcu::has_field`.

#[path = "../support.rs"]
mod support;

use core::mem::offset_of;

use rcu::{ListLinks, RcuHead};
use support::check_round_trip;

#[derive(rcu::HasField)]
struct Session {
    user: u32,
    #[field]
    rcu_head: RcuHead,
    #[field]
    links: ListLinks<0>,
}

fn main() {
    let mut session = Session { user: 7, rcu_head: RcuHead::new(), links: ListLinks::new() };
    check_round_trip::<Session, RcuHead>(&mut session, offset_of!(Session, rcu_head));
    check_round_trip::<Session, ListLinks<0>>(&mut session, offset_of!(Session, links));
    assert_eq!(session.user, 7);
}
