//! Userspace read-copy-update (RCU) with the Linux kernel's API shape.
//!
//! RCU lets many threads read a shared structure with no locks and no atomic
//! read-modify-write instructions, while writers change it by publishing new versions.
//! A writer that unpublishes an old version cannot free it at once, because readers may
//! still be looking at it. It waits for a *grace period*, after which every reader that
//! could have seen the old version has moved on. This crate provides the pieces the Linux
//! kernel's RCU offers, with the names and shapes of the kernel's Rust abstractions
//! (`kernel::sync::rcu`) and of its C API where those exist.
//!
//! # A first example
//!
//! ```
//! use std::sync::Arc;
//! use std::thread;
//!
//! let config = Arc::new(rcu::Rcu::new(Box::new(String::from("v1"))));
//!
//! let reader = {
//!     let config = Arc::clone(&config);
//!     thread::spawn(move || {
//!         let guard = rcu::read_lock(); // a read-side critical section begins
//!         let current: &String = config.dereference(&guard).unwrap();
//!         assert!(current == "v1" || current == "v2");
//!     }) // the guard drops: the section ends
//! };
//!
//! // The writer publishes a new value and gets the old one back, unpublished.
//! let old = config.swap(Box::new(String::from("v2"))).unwrap();
//! // Waits for a grace period: no reader can still see "v1" after this.
//! let old: Box<String> = old.synchronize();
//! assert_eq!(*old, "v1");
//! reader.join().unwrap();
//! ```
//!
//! # Read-side critical sections
//!
//! [`read_lock`] returns a [`Guard`]; the section lasts until the guard is dropped.
//! Sections nest, never block, and are not `Send`: a guard belongs to its thread. A
//! thread registers itself on its first `read_lock` and unregisters when it exits (or on
//! [`unregister_thread`]).
//!
//! Entering and leaving a section costs a few loads (this thread's state, the global
//! generation, the barrier choice), two stores to this thread's own cache line and a
//! compiler fence, with no atomic read-modify-write. The full
//! memory barrier that orders a reader against a writer is paid by the writer: on Linux,
//! grace periods call `membarrier(2)` with `MEMBARRIER_CMD_PRIVATE_EXPEDITED`. Where the
//! kernel lacks that command, under Miri and loom, or with the environment variable
//! `RCU_FORCE_FENCE=1`, readers execute a `SeqCst` fence instead. [`barrier_kind`] says
//! which is in use; the choice is made once per process.
//!
//! A read-side critical section is not a lock: it does not exclude writers, and two loads
//! in one section may see two different versions. What it guarantees is that memory
//! reached inside the section is not reclaimed until the section ends.
//!
//! # Grace periods
//!
//! [`synchronize_rcu`] waits until every section that began before the call has ended.
//! It waits only for those readers: sections that begin during the wait do not extend
//! it. Concurrent callers share grace periods, so N threads that call it together cost
//! one or two grace periods rather than N.
//!
//! The polled API has the kernel's meanings: [`get_state_synchronize_rcu`] takes a
//! snapshot, [`start_poll_synchronize_rcu`] also makes sure a grace period will run (on a
//! background thread), [`poll_state_synchronize_rcu`] tells whether a full grace period
//! has elapsed since the snapshot, and [`cond_synchronize_rcu`] waits only if none has.
//! [`GpState::COMPLETED`] always reads as completed.
//!
//! Waiting for a grace period inside a read-side critical section would wait for the
//! caller's own section, so every API that waits ([`synchronize_rcu`],
//! [`cond_synchronize_rcu`], [`rcu_barrier`], dropping an [`RcuOld`] or an [`Rcu`] with
//! the [`Wait`] policy) panics there instead of deadlocking, with a message that names
//! the fix.
//!
//! # Deferred reclamation: `call_rcu`, `kfree_rcu`, `rcu_barrier`
//!
//! [`call_rcu`] queues a callback to run after a grace period, on a callback thread the
//! crate starts on first use. It is intrusive: the caller provides an [`RcuHead`], two
//! words embedded in the object, so queuing never allocates and never blocks. A struct
//! gets the head's plumbing from `#[derive(HasField)]` with `#[field]` on the head, and
//! then implements [`HasRcuHead`] with no other code:
//!
//! ```
//! use rcu::{HasField, RcuHead};
//!
//! #[derive(HasField)]
//! struct Session {
//!     user: String,
//!     #[field]
//!     rcu_head: RcuHead,
//! }
//!
//! let retired = Box::new(Session { user: "ada".into(), rcu_head: RcuHead::new() });
//! rcu::kfree_rcu(retired); // dropped on the callback thread after a grace period
//! rcu::rcu_barrier(); // waits until every callback queued so far has run
//! ```
//!
//! A crate that depends only on `rcu` needs nothing more: the derive finds this crate's
//! re-export, `rcu::has_field`, from the crate's Cargo.toml. Where the derive is reached
//! through some other crate that re-exports it, `#[has_field(crate = "that::has_field")]`
//! names the path.
//!
//! One grace period serves every callback queued before it starts. A panicking callback
//! is caught and logged (`log::error!`), and the others still run. The backlog of queued
//! callbacks is bounded by [`set_callback_limit`]: a caller that outruns the callback
//! thread waits for it, except inside a read-side critical section, where it never blocks.
//!
//! # Pointers and boxes
//!
//! [`Rcu<P, R>`](Rcu) is an RCU-protected atomic pointer over an owning pointer `P`
//! (`Box<T>`, `Arc<T>`, [`RcuBox<T>`], or anything implementing [`ForeignOwnable`]).
//! [`Rcu::dereference`] borrows the pointee for as long as a guard lives. Updates
//! return the old value as an [`RcuOld`]: through `&self` ([`swap`](Rcu::swap),
//! [`compare_exchange`](Rcu::compare_exchange), [`update`](Rcu::update)) for many
//! updaters sharing an `Arc<Rcu<_>>`, and through `Pin<&mut Self>`
//! ([`replace`](Rcu::replace), [`copy_update`](Rcu::copy_update)) in the kernel's shape.
//!
//! The reclaim policy `R` is part of the type. With [`Wait`], the default, an old value
//! is dropped after [`synchronize_rcu`]. With [`Defer`] it goes to the callback thread
//! through the pointee's own `RcuHead`, and no drop waits for a grace period:
//! [`DeferredRcu<T>`](DeferredRcu) is that non-blocking pointer over an [`RcuBox<T>`], a
//! box whose `&T` may outlive it by a grace period ([`RcuBox::with_rcu`]).
//!
//! # Intrusive lists
//!
//! [`RcuList<T, ID>`](RcuList) is the userspace counterpart of the kernel's `list_add_rcu`,
//! `list_del_rcu` and `list_for_each_entry_rcu`. Entries link through a
//! [`ListLinks<ID>`](ListLinks) field found through `HasField`, so linking allocates
//! nothing, and a struct with two such fields (different `ID`s) is on two lists at once.
//! Readers iterate under a guard without locks; writers hold the list's writer lock. See
//! the [`list`] module.
//!
//! # Diagnostics
//!
//! Reports go through the `log` facade, so install a logger (`env_logger`, for example)
//! to route them. When no logger is installed they are printed to standard error
//! instead, so that a stalled grace period never hangs in silence.
//!
//! - A grace period that waits on one reader for longer than [`stall_timeout`] (21
//!   seconds by default, as in the kernel) logs a `log::warn!` that names the reader
//!   thread, once per stall.
//! - A thread that exits inside a section is reported with `log::error!`. It cannot panic
//!   there (a panic in a thread-local destructor aborts the process), so grace periods go
//!   on waiting for the section, which the stall warning then names.
//! - [`stats`] returns counters: grace periods, time waited, readers, callbacks queued,
//!   run and panicked, the largest batch and the backlog.
//!
//! # Verification
//!
//! The grace-period engine, the callback queue and the list run unchanged under loom
//! (`--cfg loom`, through a small internal layer over atomics, thread-locals and
//! threads) and under Miri, where the fence path is used. `examples/torture.rs` is an
//! rcutorture-style stress run, and the repository's BENCHMARKS.md records measurements.
//!
//! # Limits
//!
//! - Callbacks still queued when the process exits never run, as in the kernel: nothing
//!   waits for them at exit. That covers `call_rcu`, `kfree_rcu`, the `Defer` policy and
//!   dropped [`RcuBox`]es. When a deferred `Drop` has an effect that must happen, such as
//!   flushing a file, call [`rcu_barrier`] before `main` returns.
//! - `fork()` without `exec` in a process whose RCU threads are running is not supported:
//!   the child has none of the parent's background threads.
//! - There are no sleepable (SRCU) or Tasks RCU flavours.

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
mod report;
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
