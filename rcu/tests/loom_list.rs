//! loom model of RcuList: one writer inserts and removes while one reader walks.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p rcu --test loom_list --release`.
//! Entries are `Arc`s that the test keeps, so a node reclaimed too early is flagged
//! instead of freed, and the model checks the flag without touching freed memory.
//!
//! Readers unregister explicitly before their thread returns: loom may end the model
//! before a finished thread's thread-local destructors run, so the destructor that
//! normally unregisters a reader would race with the teardown.

#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::Arc as LoomArc;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use std::sync::Arc;

use rcu::{HasField, ListLinks, RcuList};

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Node {
    value: u64,
    /// Written by the inserting thread just before insertion, and read by the reader, so
    /// loom reports the read unless the list's publication orders the write before it.
    payload: UnsafeCell<u64>,
    /// Set once the list's count is reclaimed, after the removal's grace period.
    reclaimed: AtomicBool,
    #[field]
    links: ListLinks,
}

// SAFETY: `payload` is written only before the node is inserted, through the `Arc` that
// is moved into the list, and only read afterwards.
unsafe impl Sync for Node {}

fn node(value: u64) -> Arc<Node> {
    let node = Arc::new(Node {
        value,
        payload: UnsafeCell::new(0),
        reclaimed: AtomicBool::new(false),
        links: ListLinks::new(),
    });
    // SAFETY: the node is not shared yet.
    node.payload
        .with_mut(|payload| unsafe { *payload = value * 10 });
    node
}

/// Builds the list `[1, 2]` and returns it with its nodes.
fn two_node_list() -> (LoomArc<RcuList<Node, 0, Arc<Node>>>, [Arc<Node>; 2]) {
    let list = LoomArc::new(RcuList::new());
    let nodes = [node(1), node(2)];
    let mut writer = list.lock();
    for node in &nodes {
        writer.push_back(Arc::clone(node));
    }
    drop(writer);
    (list, nodes)
}

/// Walks the list under one guard and returns the values seen, checking each node.
fn walk(list: &RcuList<Node, 0, Arc<Node>>) -> Vec<u64> {
    let guard = rcu::read_lock();
    let mut values = Vec::new();
    for node in list.iter(&guard) {
        // Relaxed: the grace period, not this load, must order the flag after the walk.
        assert!(
            !node.reclaimed.load(Ordering::Relaxed),
            "the reader saw node {} after its grace period ended",
            node.value
        );
        // SAFETY: the payload is only read once the node is on the list.
        let payload = node.payload.with(|payload| unsafe { *payload });
        assert_eq!(payload, node.value * 10);
        values.push(node.value);
        assert!(values.len() <= 3, "the walk did not terminate: {values:?}");
    }
    values
}

#[test]
fn remove_waits_for_reader() {
    loom::model(|| {
        let (list, nodes) = two_node_list();

        let reader = {
            let list = LoomArc::clone(&list);
            thread::spawn(move || {
                let seen = walk(&list);
                rcu::unregister_thread();
                seen
            })
        };

        let unlinked = list
            .lock()
            .remove(&nodes[0])
            .expect("node 1 is on the list");
        let reclaimed = unlinked.synchronize();
        reclaimed.reclaimed.store(true, Ordering::Relaxed);

        let seen = reader.join().unwrap();
        assert!(seen == [1, 2] || seen == [2], "unexpected walk {seen:?}");
        let after: Vec<u64> = list.lock().iter().map(|node| node.value).collect();
        assert_eq!(after, [2]);
    });
}

#[test]
fn insert_publishes_initialized_node() {
    loom::model(|| {
        let (list, _nodes) = two_node_list();

        let reader = {
            let list = LoomArc::clone(&list);
            thread::spawn(move || {
                let seen = walk(&list);
                rcu::unregister_thread();
                seen
            })
        };

        let mut writer = list.lock();
        writer.push_front(node(0));
        let first = writer.iter().nth(1).map(|node| node.value);
        drop(writer);
        assert_eq!(first, Some(1));

        let seen = reader.join().unwrap();
        assert!(
            seen == [1, 2] || seen == [0, 1, 2],
            "unexpected walk {seen:?}"
        );
    });
}

#[test]
fn reader_on_removed_node_walks_on() {
    loom::model(|| {
        let (list, nodes) = two_node_list();
        list.lock().push_back(node(3));

        // The writer removes the middle node and then the first one. A reader that is on
        // either of them walks on to a live successor or reaches the end.
        let reader = {
            let list = LoomArc::clone(&list);
            thread::spawn(move || {
                let seen = walk(&list);
                rcu::unregister_thread();
                seen
            })
        };

        let mut writer = list.lock();
        let middle = writer.remove(&nodes[1]).expect("node 2 is on the list");
        let last = writer.pop_front().expect("node 1 is on the list");
        drop(writer);
        for unlinked in [middle, last] {
            let reclaimed = unlinked.synchronize();
            reclaimed.reclaimed.store(true, Ordering::Relaxed);
        }

        let seen = reader.join().unwrap();
        let allowed: [&[u64]; 4] = [&[1, 2, 3], &[1, 3], &[2, 3], &[3]];
        assert!(
            allowed.contains(&seen.as_slice()),
            "unexpected walk {seen:?}"
        );
    });
}
