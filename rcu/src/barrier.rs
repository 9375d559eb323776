//! The memory barrier that pairs the reader's entry with the writer's scan.
//!
//! A reader that enters a read-side critical section stores its state and then loads
//! RCU-protected pointers; the writer unpublishes a pointer and then loads every reader's
//! state. Each side needs a full barrier between its store and its load (the
//! store-buffering pattern), or both may read the old value. There are two ways to
//! provide it, chosen once per process before the first reader registers:
//!
//! - [`BarrierKind::Membarrier`]: the writer calls `membarrier(2)` with
//!   `MEMBARRIER_CMD_PRIVATE_EXPEDITED`, which runs a full barrier on every CPU that is
//!   running a thread of this process, and the reader needs only a compiler fence. This
//!   moves the whole cost to the writer.
//! - [`BarrierKind::Fence`]: the reader executes a `SeqCst` fence at entry and the writer
//!   another before its scan. Used when the kernel lacks the command, under Miri and loom,
//!   and when the environment variable `RCU_FORCE_FENCE` is set to `1` at start.

use crate::sync::{Ordering, compiler_fence, fence};
use std::sync::Once;
#[cfg(not(any(loom, miri)))]
use std::sync::atomic::AtomicBool;

/// The environment variable that forces [`BarrierKind::Fence`] when set to `1`.
///
/// It is read once, when the first reader registers or the first grace period starts, so
/// set it before the process uses RCU (or in the environment that starts it).
///
/// ```
/// assert_eq!(rcu::FORCE_FENCE_ENV, "RCU_FORCE_FENCE");
/// ```
pub const FORCE_FENCE_ENV: &str = "RCU_FORCE_FENCE";

/// How read-side critical sections are ordered against grace periods.
///
/// ```
/// let kind = rcu::barrier_kind();
/// assert!(matches!(kind, rcu::BarrierKind::Membarrier | rcu::BarrierKind::Fence));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierKind {
    /// The writer runs `membarrier(2)`; readers pay a compiler fence only.
    Membarrier,
    /// Readers and the writer each run a `SeqCst` fence.
    Fence,
}

/// `true` once the fence fallback is chosen. Written once inside `INIT` and only read
/// after it, so `Relaxed` loads see the final value: every reader passes through
/// [`init`] when it registers, and `Once` orders the write before that.
#[cfg(not(any(loom, miri)))]
static USE_FENCE: AtomicBool = AtomicBool::new(true);

static INIT: Once = Once::new();

/// Chooses the barrier for this process. Idempotent and cheap after the first call.
pub(crate) fn init() {
    INIT.call_once(|| {
        let kind = choose();
        #[cfg(not(any(loom, miri)))]
        USE_FENCE.store(kind == BarrierKind::Fence, Ordering::Relaxed);
        log::debug!("rcu: read-side barrier is {kind:?}");
    });
}

/// Returns the barrier this process uses, choosing it first if no reader has yet.
///
/// ```
/// if std::env::var(rcu::FORCE_FENCE_ENV).as_deref() == Ok("1") {
///     assert_eq!(rcu::barrier_kind(), rcu::BarrierKind::Fence);
/// }
/// ```
pub fn barrier_kind() -> BarrierKind {
    init();
    current()
}

#[inline(always)]
fn current() -> BarrierKind {
    #[cfg(any(loom, miri))]
    {
        BarrierKind::Fence
    }
    #[cfg(not(any(loom, miri)))]
    {
        if USE_FENCE.load(Ordering::Relaxed) {
            BarrierKind::Fence
        } else {
            BarrierKind::Membarrier
        }
    }
}

fn choose() -> BarrierKind {
    let forced = std::env::var_os(FORCE_FENCE_ENV).is_some_and(|value| value == "1");
    if forced {
        log::info!("rcu: {FORCE_FENCE_ENV}=1, readers use SeqCst fences");
        return BarrierKind::Fence;
    }
    if membarrier::register() {
        BarrierKind::Membarrier
    } else {
        log::info!(
            "rcu: membarrier(2) private expedited is unavailable, readers use SeqCst fences"
        );
        BarrierKind::Fence
    }
}

/// The reader's half: runs after the reader publishes its state on section entry, before
/// its first load of protected data.
///
/// Pairs with [`writer_barrier`]: with membarrier the writer's system call runs the full
/// barrier on this CPU, so only the compiler must be kept from moving loads above the
/// store; in fallback mode this `SeqCst` fence pairs with the writer's `SeqCst` fence.
#[inline(always)]
pub(crate) fn reader_barrier() {
    match current() {
        BarrierKind::Fence => fence(Ordering::SeqCst),
        BarrierKind::Membarrier => compiler_fence(),
    }
}

/// The writer's half: runs after the new reader generation is published and before the
/// writer loads any reader's state. Pairs with [`reader_barrier`].
pub(crate) fn writer_barrier() {
    init();
    match current() {
        BarrierKind::Fence => fence(Ordering::SeqCst),
        BarrierKind::Membarrier => {
            // The system call is a full barrier for this thread too, but the fence keeps
            // the ordering visible to the Rust memory model in this thread.
            fence(Ordering::SeqCst);
            membarrier::expedited();
        }
    }
}

#[cfg(all(target_os = "linux", not(any(loom, miri))))]
mod membarrier {
    const CMD_QUERY: libc::c_long = 0;
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    fn call(cmd: libc::c_long) -> libc::c_long {
        // SAFETY: membarrier takes two integer arguments and touches no user memory.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                cmd,
                0 as libc::c_long,
                0 as libc::c_long,
            )
        }
    }

    /// Registers the process for private expedited membarrier, if the kernel offers it.
    pub(super) fn register() -> bool {
        let supported = call(CMD_QUERY);
        if supported < 0 || supported & CMD_PRIVATE_EXPEDITED == 0 {
            return false;
        }
        call(CMD_REGISTER_PRIVATE_EXPEDITED) == 0
    }

    /// Runs a full memory barrier on every CPU running a thread of this process.
    pub(super) fn expedited() {
        let result = call(CMD_PRIVATE_EXPEDITED);
        // The process registered before choosing this path, and the command has no
        // transient failure modes, so a failure means the kernel broke its contract.
        assert!(
            result == 0,
            "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(all(target_os = "linux", not(any(loom, miri)))))]
mod membarrier {
    pub(super) fn register() -> bool {
        false
    }

    pub(super) fn expedited() {
        unreachable!("membarrier is never chosen on this target")
    }
}
