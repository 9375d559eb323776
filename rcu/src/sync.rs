//! The engine's view of atomics, locks, thread-locals and threads.
//!
//! Under `--cfg loom` every item comes from loom, so the loom models drive the same
//! grace-period and callback code that ships. Everything else uses `std`.

#[cfg(loom)]
#[allow(unused_imports)]
pub(crate) use loom::{
    sync::{
        Arc, Condvar, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence},
    },
    thread,
};

#[cfg(not(loom))]
#[allow(unused_imports)]
pub(crate) use std::{
    sync::{
        Arc, Condvar, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence},
    },
    thread,
};

/// A compiler-only fence. loom models no compiler reordering, so it has no counterpart.
#[inline(always)]
pub(crate) fn compiler_fence() {
    core::sync::atomic::compiler_fence(Ordering::SeqCst);
}

/// Tells the scheduler (or loom) that this thread is waiting for another one.
#[inline]
pub(crate) fn spin_wait() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}

/// Locks `mutex`, ignoring poisoning.
///
/// The engine's locks guard plain bookkeeping that a panic cannot leave half-updated: a
/// panic while one is held comes from a user callback or an assertion, never from the
/// middle of an update, so the data stays consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Declares a static that is a plain `static` normally and a per-execution lazy static
/// under loom, whose atomics cannot be built in a const context.
///
/// The static is private to the declaring module, because loom's macro cannot forward a
/// captured visibility.
macro_rules! global {
    ($(#[$attr:meta])* static $name:ident: $ty:ty = $init:expr;) => {
        #[cfg(not(loom))]
        $(#[$attr])*
        static $name: $ty = $init;

        #[cfg(loom)]
        loom::lazy_static! {
            $(#[$attr])*
            static ref $name: $ty = $init;
        }
    };
}
pub(crate) use global;

/// Declares thread-locals: `std`'s with a `const` initializer (no lazy-init check on
/// access), or loom's, which models per-thread values and their destructors.
macro_rules! thread_locals {
    ($($(#[$attr:meta])* static $name:ident: $ty:ty = $init:expr;)*) => {
        #[cfg(not(loom))]
        std::thread_local! {
            $($(#[$attr])* static $name: $ty = const { $init };)*
        }

        #[cfg(loom)]
        loom::thread_local! {
            $($(#[$attr])* static $name: $ty = $init;)*
        }
    };
}
pub(crate) use thread_locals;
