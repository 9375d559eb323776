//! loom models of the callback queue: concurrent producers against a consumer that takes
//! a batch, the sleep and wake-up handshake, and the batch that `rcu_barrier` waits for.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p rcu --test loom_callbacks --release`

#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use rcu::{LoomQueue, RcuHead};

/// Two owned slots and the overflow slot.
type Queue = LoomQueue<3>;

unsafe fn never_called(_head: *mut RcuHead) {}

/// A leaked head, as an address so that it can cross into loom threads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct HeadAddr(usize);

impl HeadAddr {
    fn new() -> Self {
        HeadAddr(Box::into_raw(Box::new(RcuHead::new())) as usize)
    }

    fn ptr(self) -> *mut RcuHead {
        self.0 as *mut RcuHead
    }

    fn free(self) {
        // SAFETY: made by `Box::into_raw` in `new`, and no longer queued.
        drop(unsafe { Box::from_raw(self.ptr()) });
    }
}

fn push(queue: &Queue, slot: usize, head: HeadAddr) -> bool {
    // SAFETY: each head is fresh, pushed once, and only its slot's owner (or anyone, for
    // the overflow slot) pushes onto a slot.
    unsafe { queue.push(slot, head.ptr(), never_called) }
}

/// Runs one whole batch and returns the heads it took.
fn take_batch(queue: &Queue) -> Vec<HeadAddr> {
    queue.begin_batch();
    let mut batch = queue.take_all();
    let mut taken = Vec::new();
    while let Some((head, _func)) = batch.pop() {
        taken.push(HeadAddr(head as usize));
    }
    queue.record_invoked(taken.len() as u64);
    queue.end_batch();
    taken
}

#[test]
fn producers_and_batch_lose_nothing() {
    loom::model(|| {
        let queue = Arc::new(Queue::new());
        let heads = [HeadAddr::new(), HeadAddr::new(), HeadAddr::new()];

        let producers: Vec<_> = [(heads[0], false), (heads[1], true)]
            .into_iter()
            .map(|(head, also_overflow)| {
                let queue = Arc::clone(&queue);
                let extra = heads[2];
                thread::spawn(move || {
                    let slot = queue.claim_slot();
                    push(&queue, slot, head);
                    if also_overflow {
                        push(&queue, Queue::OVERFLOW, extra);
                    }
                    queue.release_slot(slot);
                })
            })
            .collect();

        let mut taken = take_batch(&queue);
        for producer in producers {
            producer.join().unwrap();
        }
        taken.extend(take_batch(&queue));

        taken.sort_by_key(|head| head.0);
        let mut expected = heads.to_vec();
        expected.sort_by_key(|head| head.0);
        assert_eq!(taken, expected, "every head taken exactly once");
        assert_eq!(queue.pending(), 0);
        heads.iter().for_each(|head| head.free());
    });
}

#[test]
fn wake_up_is_never_lost() {
    loom::model(|| {
        let queue = Arc::new(Queue::new());
        let head = HeadAddr::new();

        let consumer = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                loop {
                    if queue.prepare_sleep() {
                        while queue.still_sleeping() {
                            thread::park();
                        }
                    }
                    if !take_batch(&queue).is_empty() {
                        return;
                    }
                }
            })
        };

        let slot = queue.claim_slot();
        if push(&queue, slot, head) && queue.wake_needed() {
            consumer.thread().unpark();
        }
        // A lost wake-up leaves the consumer parked forever, which loom reports.
        consumer.join().unwrap();
        head.free();
    });
}

#[test]
fn barrier_target_batch_takes_earlier_pushes() {
    loom::model(|| {
        let queue = Arc::new(Queue::new());
        let head = HeadAddr::new();

        let waiter = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                let slot = queue.claim_slot();
                push(&queue, slot, head);
                queue.barrier_target()
            })
        };
        let first = take_batch(&queue);
        let target = waiter.join().unwrap();

        if queue.batch_done(target) {
            assert_eq!(first, vec![head], "the target batch ended without the head");
        } else {
            let second = take_batch(&queue);
            assert!(queue.batch_done(target));
            assert_eq!(first.len() + second.len(), 1);
        }
        head.free();
    });
}

#[test]
fn no_pending_means_callbacks_ran() {
    loom::model(|| {
        let queue = Arc::new(Queue::new());
        let ran = Arc::new(AtomicBool::new(false));
        let head = HeadAddr::new();

        let slot = queue.claim_slot();
        push(&queue, slot, head);
        let consumer = {
            let (queue, ran) = (Arc::clone(&queue), Arc::clone(&ran));
            thread::spawn(move || {
                queue.begin_batch();
                let mut batch = queue.take_all();
                while batch.pop().is_some() {
                    // Stands for the callback's own effects.
                    ran.store(true, Ordering::Relaxed);
                }
                queue.record_invoked(1);
                queue.end_batch();
            })
        };

        // `rcu_barrier` returns at once when nothing is pending, so that must imply the
        // callback's effects are visible.
        if queue.pending() == 0 {
            assert!(
                ran.load(Ordering::Relaxed),
                "nothing pending, but the callback's effects are missing"
            );
        }
        consumer.join().unwrap();
        assert_eq!(queue.pending(), 0);
        head.free();
    });
}
