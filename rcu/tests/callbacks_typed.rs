//! The typed forms and the queue with few objects, small enough for Miri:
//! `cargo +nightly miri test -p rcu --test callbacks_typed`.
//!
//! Miri checks that `field_container_of` rebuilds each box from its head with the box's
//! provenance, that each box is freed once, and that no callback touches freed memory.

use rcu::{HasField, RcuCallback, RcuHead};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

const OBJECTS: usize = if cfg!(miri) { 20 } else { 2_000 };

/// The head sits after other fields, so `field_container_of` must subtract its offset.
#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Late<T: Send + 'static> {
    value: T,
    drops: Arc<AtomicUsize>,
    #[field]
    head: RcuHead,
    tail: [u8; 3],
}

impl<T: Send + 'static> Drop for Late<T> {
    fn drop(&mut self) {
        assert_eq!(self.tail, [1, 2, 3]);
        // Reads the payload, so Miri checks that it is still allocated and initialized.
        std::hint::black_box(&self.value);
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn kfree_rcu_rebuilds_box_from_inner_head() {
    let drops = Arc::new(AtomicUsize::new(0));
    for i in 0..OBJECTS {
        rcu::kfree_rcu(Box::new(Late {
            value: format!("object {i}"),
            drops: Arc::clone(&drops),
            head: RcuHead::new(),
            tail: [1, 2, 3],
        }));
    }
    rcu::rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), OBJECTS);
}

#[test]
fn kfree_rcu_from_two_threads() {
    let drops = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..2)
        .map(|_| {
            let drops = Arc::clone(&drops);
            thread::spawn(move || {
                for i in 0..OBJECTS {
                    rcu::kfree_rcu(Box::new(Late {
                        value: i,
                        drops: Arc::clone(&drops),
                        head: RcuHead::new(),
                        tail: [1, 2, 3],
                    }));
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }
    rcu::rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 2 * OBJECTS);
}

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Message {
    text: String,
    #[field]
    head: RcuHead,
    reply: mpsc::Sender<String>,
}

impl RcuCallback for Message {
    fn invoke(mut self: Box<Self>) {
        self.text.push_str(" after a grace period");
        self.reply.send(self.text.clone()).unwrap();
    }
}

#[test]
fn call_rcu_box_hands_back_the_box() {
    let (reply, replies) = mpsc::channel();
    for i in 0..3 {
        rcu::call_rcu_box(Box::new(Message {
            text: format!("message {i}"),
            head: RcuHead::new(),
            reply: reply.clone(),
        }));
    }
    let mut received: Vec<String> = (0..3).map(|_| replies.recv().unwrap()).collect();
    received.sort();
    assert_eq!(
        received,
        [
            "message 0 after a grace period",
            "message 1 after a grace period",
            "message 2 after a grace period",
        ]
    );
}

/// A zero-sized payload: the head is the whole container.
#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct OnlyHead {
    #[field]
    head: RcuHead,
}

#[test]
fn kfree_rcu_of_head_only_container() {
    for _ in 0..OBJECTS {
        rcu::kfree_rcu(Box::new(OnlyHead {
            head: RcuHead::new(),
        }));
    }
    rcu::rcu_barrier();
}

#[test]
fn head_is_two_words() {
    assert_eq!(size_of::<RcuHead>(), 2 * size_of::<usize>());
    assert_eq!(align_of::<RcuHead>(), align_of::<usize>());
}
