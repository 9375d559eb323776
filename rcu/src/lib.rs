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
pub mod list;
mod owned;
mod pointer;
mod rcu_box;
mod reader;
mod stall;
mod stats;
mod sync;

pub use barrier::{BarrierKind, FORCE_FENCE_ENV, barrier_kind};
pub use callback::{
    DEFAULT_CALLBACK_LIMIT, RcuCallback, call_rcu, call_rcu_box, callback_limit, kfree_rcu,
    rcu_barrier, set_callback_limit,
};
pub use grace_period::{
    GpState, cond_synchronize_rcu, get_completed_synchronize_rcu, get_state_synchronize_rcu,
    poll_state_synchronize_rcu, start_poll_synchronize_rcu, synchronize_rcu,
};
pub use has_field::{self, Field, HasField};
pub use head::{HasRcuHead, RcuCallbackFn, RcuHead};
pub use list::{ListLinks, RcuList};
pub use owned::{DeferDrop, ForeignOwnable};
pub use pointer::{Defer, DeferredRcu, Rcu, RcuOld, Reclaim, Wait, rcu_borrow};
pub use rcu_box::{RcuBox, RcuBoxInner};
pub use reader::{Guard, read_lock, read_lock_held, unregister_thread};
pub use stall::{DEFAULT_STALL_TIMEOUT, set_stall_timeout, stall_timeout};
pub use stats::{Stats, stats};

/// The callback queue, exposed only to the loom models in `tests/loom_callbacks.rs`.
#[cfg(loom)]
#[doc(hidden)]
pub use callback::queue::{Batch as LoomBatch, Queue as LoomQueue};
