//! The shared-pointer implementations under comparison, behind one trait.
//!
//! Each holds one `Payload` that readers read and updaters replace with a fresh one. Every
//! implementation frees a replaced payload the way its library intends: after a grace
//! period, through its deferred-reclamation scheme, or at once under a write lock.

use arc_swap::ArcSwap;
use crossbeam_epoch::{self as epoch, Atomic, Owned};
use rcu::{DeferredRcu, Rcu, RcuBox};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The value behind the shared pointer: four equal words, so a torn or freed read shows.
pub struct Payload {
    values: [u64; 4],
}

impl Payload {
    pub fn new(value: u64) -> Self {
        Payload { values: [value; 4] }
    }

    /// Returns a check sum that the optimizer cannot drop.
    #[inline]
    fn sum(&self) -> u64 {
        self.values[0].wrapping_add(self.values[3])
    }
}

/// One shared pointer under test.
pub trait Backend: Sync {
    /// Called once on each worker thread before its first operation.
    fn thread_start(&self) {}
    /// Called once on each worker thread after its last operation.
    fn thread_stop(&self) {}
    /// Reads the current payload and returns its check sum.
    fn read(&self) -> u64;
    /// Replaces the payload with one holding `value`.
    fn update(&self, value: u64);
}

/// A named constructor of a backend, so that each measurement starts from a fresh one.
pub struct Contender {
    pub name: &'static str,
    pub make: fn() -> Box<dyn Backend>,
}

/// Every contender built into this binary, this crate's forms first.
pub fn contenders() -> Vec<Contender> {
    let mut list = vec![
        Contender {
            name: "rcu Rcu<Box<T>>",
            make: || Box::new(RcuWait(Rcu::new(Box::new(Payload::new(0))))),
        },
        Contender {
            name: "rcu DeferredRcu<T>",
            make: || Box::new(RcuDefer(DeferredRcu::from(RcuBox::new(Payload::new(0))))),
        },
        Contender {
            name: "arc-swap",
            make: || Box::new(ArcSwap::from_pointee(Payload::new(0))),
        },
        Contender {
            name: "crossbeam-epoch",
            make: || Box::new(Epoch(Atomic::new(Payload::new(0)))),
        },
        Contender {
            name: "std RwLock",
            make: || Box::new(std::sync::RwLock::new(Arc::new(Payload::new(0)))),
        },
        Contender {
            name: "parking_lot RwLock",
            make: || Box::new(parking_lot::RwLock::new(Arc::new(Payload::new(0)))),
        },
    ];
    list.extend(crate::liburcu::contenders());
    list
}

/// This crate's blocking form: each update waits for a grace period before it frees the
/// old payload.
struct RcuWait(Rcu<Box<Payload>>);

impl Backend for RcuWait {
    #[inline]
    fn read(&self) -> u64 {
        let guard = rcu::read_lock();
        self.0.dereference(&guard).map_or(0, Payload::sum)
    }

    fn update(&self, value: u64) {
        if let Some(old) = self.0.swap(Box::new(Payload::new(value))) {
            drop(old.synchronize());
        }
    }
}

/// This crate's non-blocking form: each update queues the old payload for `kfree_rcu`.
struct RcuDefer(DeferredRcu<Payload>);

impl Backend for RcuDefer {
    #[inline]
    fn read(&self) -> u64 {
        let guard = rcu::read_lock();
        self.0.dereference(&guard).map_or(0, Payload::sum)
    }

    fn update(&self, value: u64) {
        drop(self.0.swap(RcuBox::new(Payload::new(value))));
    }
}

impl Backend for ArcSwap<Payload> {
    #[inline]
    fn read(&self) -> u64 {
        self.load().sum()
    }

    fn update(&self, value: u64) {
        self.store(Arc::new(Payload::new(value)));
    }
}

struct Epoch(Atomic<Payload>);

impl Backend for Epoch {
    #[inline]
    fn read(&self) -> u64 {
        let guard = epoch::pin();
        let current = self.0.load(Ordering::Acquire, &guard);
        // SAFETY: the pointer is never null, and the pin keeps the payload alive.
        unsafe { current.deref() }.sum()
    }

    fn update(&self, value: u64) {
        let guard = epoch::pin();
        let old = self
            .0
            .swap(Owned::new(Payload::new(value)), Ordering::AcqRel, &guard);
        // SAFETY: `old` is unpublished, so only pinned readers can still hold it, and the
        // collector frees it after they unpin.
        unsafe { guard.defer_destroy(old) };
    }
}

impl Drop for Epoch {
    fn drop(&mut self) {
        // SAFETY: `&mut self` means no thread can load the pointer any more.
        let current = unsafe { self.0.load(Ordering::Relaxed, epoch::unprotected()) };
        // SAFETY: the payload was allocated by `Owned::new` and nothing else owns it.
        drop(unsafe { current.into_owned() });
    }
}

impl Backend for std::sync::RwLock<Arc<Payload>> {
    #[inline]
    fn read(&self) -> u64 {
        self.read().unwrap_or_else(|e| e.into_inner()).sum()
    }

    fn update(&self, value: u64) {
        *self.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Payload::new(value));
    }
}

impl Backend for parking_lot::RwLock<Arc<Payload>> {
    #[inline]
    fn read(&self) -> u64 {
        self.read().sum()
    }

    fn update(&self, value: u64) {
        *self.write() = Arc::new(Payload::new(value));
    }
}
