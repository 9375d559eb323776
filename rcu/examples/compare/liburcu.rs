//! liburcu's memb and qsbr flavours, through the C shim that build.rs compiles when the
//! `liburcu` feature is on. Without the feature this module adds no contenders.

use crate::backends::Contender;

#[cfg(not(feature = "liburcu"))]
pub fn contenders() -> Vec<Contender> {
    Vec::new()
}

#[cfg(feature = "liburcu")]
pub fn contenders() -> Vec<Contender> {
    vec![
        Contender {
            name: "liburcu memb",
            make: || Box::new(memb::Shared::new()),
        },
        Contender {
            name: "liburcu qsbr",
            make: || Box::new(qsbr::Shared::new()),
        },
    ]
}

/// Declares the shim's functions for one flavour and wraps them as a `Backend`.
#[cfg(feature = "liburcu")]
macro_rules! flavour {
    ($module:ident, $new:ident, $free:ident, $register:ident, $unregister:ident, $read:ident, $update:ident) => {
        mod $module {
            use crate::backends::Backend;

            /// The shim's `struct shared`, only ever used through a pointer.
            #[repr(C)]
            struct Opaque {
                _private: [u8; 0],
            }

            unsafe extern "C" {
                fn $new(value: u64) -> *mut Opaque;
                fn $free(shared: *mut Opaque);
                fn $register();
                fn $unregister();
                fn $read(shared: *mut Opaque) -> u64;
                fn $update(shared: *mut Opaque, value: u64);
            }

            pub struct Shared(*mut Opaque);

            // SAFETY: the shim's shared pointer is built for concurrent readers and updaters
            // on any registered thread; `thread_start` registers each worker.
            unsafe impl Sync for Shared {}
            // SAFETY: as above; the handle may be freed from any thread.
            unsafe impl Send for Shared {}

            impl Shared {
                pub fn new() -> Self {
                    // SAFETY: the shim allocates and initializes the shared pointer.
                    Shared(unsafe { $new(0) })
                }
            }

            impl Backend for Shared {
                fn thread_start(&self) {
                    // SAFETY: each worker registers once, before its first read.
                    unsafe { $register() }
                }

                fn thread_stop(&self) {
                    // SAFETY: called once per worker, after its last operation.
                    unsafe { $unregister() }
                }

                #[inline]
                fn read(&self) -> u64 {
                    // SAFETY: `self.0` lives until `drop`, and the caller's thread is
                    // registered.
                    unsafe { $read(self.0) }
                }

                fn update(&self, value: u64) {
                    // SAFETY: as for `read`.
                    unsafe { $update(self.0, value) }
                }
            }

            impl Drop for Shared {
                fn drop(&mut self) {
                    // SAFETY: every worker has stopped, so nothing uses the pointer any
                    // more; the shim waits for pending callbacks before freeing.
                    unsafe { $free(self.0) }
                }
            }
        }
    };
}

#[cfg(feature = "liburcu")]
flavour!(
    memb,
    shim_memb_new,
    shim_memb_free,
    shim_memb_register_thread,
    shim_memb_unregister_thread,
    shim_memb_read,
    shim_memb_update
);
#[cfg(feature = "liburcu")]
flavour!(
    qsbr,
    shim_qsbr_new,
    shim_qsbr_free,
    shim_qsbr_register_thread,
    shim_qsbr_unregister_thread,
    shim_qsbr_read,
    shim_qsbr_update
);
