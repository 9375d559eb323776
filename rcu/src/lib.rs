//! Userspace read-copy-update (RCU) with the Linux kernel's API shape.
//!
//! (The crate guide is written once the pointer types land.)

#![cfg_attr(docsrs, feature(doc_cfg))]

mod barrier;
mod batching;
mod callback;
mod gp_thread;
mod grace_period;
mod head;
mod owned;
mod pointer;
mod rcu_box;
pub mod list;
mod reader;
mod stall;
mod stats;
mod sync;

pub use barrier::{BarrierKind, FORCE_FENCE_ENV, barrier_kind};
pub use callback::{call_rcu, kfree_rcu, rcu_barrier};
pub use grace_period::{
    GpState, cond_synchronize_rcu, get_completed_synchronize_rcu, get_state_synchronize_rcu,
    poll_state_synchronize_rcu, start_poll_synchronize_rcu, synchronize_rcu,
};
pub use has_field::{self, Field, HasField};
pub use head::{HasRcuHead, RcuCallbackFn, RcuHead};
pub use owned::{DeferDrop, ForeignOwnable};
pub use pointer::{Defer, DeferredRcu, Rcu, RcuOld, Reclaim, Wait, rcu_borrow};
pub use rcu_box::{RcuBox, RcuBoxInner};
pub use reader::{Guard, read_lock, read_lock_held, unregister_thread};
pub use list::{ListLinks, RcuList};
pub use stall::{DEFAULT_STALL_TIMEOUT, set_stall_timeout, stall_timeout};
pub use stats::{Stats, stats};
