//! Unit tests of `RcuList`, sized to run under Miri with both borrow models.

use super::{ListLinks, RcuList, Unlinked};
use crate::{HasField, RcuHead};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::vec::Vec;

const ALIVE: u64 = 0xA11C_E5A1_1CE5_A11C;
const DEAD: u64 = 0xDEAD_DEAD_DEAD_DEAD;

#[derive(HasField)]
struct Node {
    value: u64,
    canary: u64,
    drops: Arc<AtomicUsize>,
    #[field]
    first: ListLinks<0>,
    #[field]
    second: ListLinks<1>,
    #[field]
    head: RcuHead,
}

impl Node {
    fn new(value: u64, drops: &Arc<AtomicUsize>) -> Node {
        Node {
            value,
            canary: ALIVE,
            drops: Arc::clone(drops),
            first: ListLinks::new(),
            second: ListLinks::new(),
            head: RcuHead::new(),
        }
    }

    fn boxed(value: u64, drops: &Arc<AtomicUsize>) -> Box<Node> {
        Box::new(Node::new(value, drops))
    }

    fn shared(value: u64, drops: &Arc<AtomicUsize>) -> Arc<Node> {
        Arc::new(Node::new(value, drops))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        assert_eq!(self.canary, ALIVE, "node {} dropped twice", self.value);
        self.canary = DEAD;
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits for every queued callback, then checks that `expected` entries were dropped.
fn wait_for_drops(drops: &AtomicUsize, expected: usize) {
    crate::rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), expected);
}

fn values<const ID: u64, P: super::ListPointer<Node>>(list: &RcuList<Node, ID, P>) -> Vec<u64>
where
    Node: HasField<Node, ListLinks<ID>>,
{
    let guard = crate::read_lock();
    list.iter(&guard)
        .map(|node| {
            assert_eq!(node.canary, ALIVE);
            node.value
        })
        .collect()
}

#[test]
fn insert_front_back_after() {
    let drops = Arc::new(AtomicUsize::new(0));
    let list: RcuList<Node> = RcuList::new();
    assert!(values(&list).is_empty());

    let mut writer = list.lock();
    writer.push_back(Node::boxed(2, &drops));
    writer.push_front(Node::boxed(1, &drops));
    writer.push_back(Node::boxed(4, &drops));
    let guard = crate::read_lock();
    let two = list.iter(&guard).nth(1).unwrap();
    assert!(writer.insert_after(two, Node::boxed(3, &drops)).is_ok());
    let four = list.iter(&guard).last().unwrap();
    assert!(writer.insert_after(four, Node::boxed(5, &drops)).is_ok());
    assert_eq!(writer.len(), 5);
    let seen: Vec<u64> = writer.iter().map(|node| node.value).collect();
    drop(writer);
    drop(guard);

    assert_eq!(seen, [1, 2, 3, 4, 5]);
    assert_eq!(values(&list), [1, 2, 3, 4, 5]);
}

#[test]
fn remove_returns_entry_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let list: RcuList<Node> = RcuList::new();
    let mut writer = list.lock();
    for value in 0..3 {
        writer.push_back(Node::boxed(value, &drops));
    }

    let guard = crate::read_lock();
    let middle = list.iter(&guard).nth(1).unwrap();
    let unlinked = writer.remove(middle).expect("middle is on the list");
    assert!(!writer.contains(middle));
    assert!(writer.remove(middle).is_none());
    assert!(writer.remove(&unlinked).is_none());
    assert_eq!(writer.len(), 2);
    assert_eq!(unlinked.value, 1);
    drop(writer);
    drop(guard);

    assert_eq!(values(&list), [0, 2]);
    drop(unlinked);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(list);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn reader_walks_on_from_removed_entry() {
    let drops = Arc::new(AtomicUsize::new(0));
    let list: RcuList<Node> = RcuList::new();
    for value in 0..4 {
        list.lock().push_back(Node::boxed(value, &drops));
    }

    let guard = crate::read_lock();
    let mut walk = list.iter(&guard);
    let one = walk.nth(1).unwrap();
    assert_eq!(one.value, 1);

    // Remove the entry the reader is on, then its successor.
    let mut writer = list.lock();
    let first_removed = writer.remove(one).unwrap();
    let two = list.iter(&guard).nth(1).unwrap();
    assert_eq!(two.value, 2);
    let second_removed = writer.remove(two).unwrap();
    drop(writer);

    assert_eq!(one.canary, ALIVE);
    let rest: Vec<u64> = walk.map(|node| node.value).collect();
    assert_eq!(rest, [2, 3], "a removed entry keeps its forward link");
    drop(guard);

    assert_eq!(values(&list), [0, 3]);
    drop(first_removed);
    drop(second_removed);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn insert_after_removed_entry_fails() {
    let drops = Arc::new(AtomicUsize::new(0));
    let list: RcuList<Node> = RcuList::new();
    let mut writer = list.lock();
    writer.push_back(Node::boxed(0, &drops));
    let removed = writer.pop_front().unwrap();

    let rejected = writer.insert_after(&removed, Node::boxed(1, &drops));
    let rejected = rejected.expect_err("the entry is not on the list");
    assert_eq!(rejected.value, 1);
    assert!(writer.is_empty());
    assert!(writer.pop_front().is_none());
    drop(writer);
    drop(removed);
    drop(rejected);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn synchronize_allows_reinsertion() {
    let drops = Arc::new(AtomicUsize::new(0));
    let list: RcuList<Node> = RcuList::new();
    list.lock().push_back(Node::boxed(7, &drops));

    let unlinked = list.lock().pop_front().unwrap();
    let node = unlinked.synchronize();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    list.lock().push_front(node);
    assert_eq!(values(&list), [7]);
    drop(list);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn entry_on_two_lists() {
    let drops = Arc::new(AtomicUsize::new(0));
    let first: RcuList<Node, 0, Arc<Node>> = RcuList::new();
    let second: RcuList<Node, 1, Arc<Node>> = RcuList::new();
    for value in 0..3 {
        let node = Node::shared(value, &drops);
        first.lock().push_back(Arc::clone(&node));
        second.lock().push_front(node);
    }
    assert_eq!(values(&first), [0, 1, 2]);
    assert_eq!(values(&second), [2, 1, 0]);

    let guard = crate::read_lock();
    let one = first.iter(&guard).nth(1).unwrap();
    let unlinked = first.lock().remove(one).unwrap();
    assert!(second.lock().contains(one));
    drop(guard);

    let node = unlinked.synchronize();
    assert_eq!(
        Arc::strong_count(&node),
        2,
        "the second list still holds a count"
    );
    assert_eq!(values(&first), [0, 2]);
    assert_eq!(values(&second), [2, 1, 0]);

    // Free again through `first`, so it may go back on.
    first.lock().push_front(node);
    assert_eq!(values(&first), [1, 0, 2]);

    drop(second);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "the first list still holds every node"
    );
    drop(first);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
#[should_panic(expected = "already on this list")]
fn double_insert_panics() {
    let drops = Arc::new(AtomicUsize::new(0));
    let list: RcuList<Node, 0, Arc<Node>> = RcuList::new();
    let node = Node::shared(0, &drops);
    let mut writer = list.lock();
    writer.push_back(Arc::clone(&node));
    writer.push_back(node);
}

#[test]
fn double_insert_leaves_list_intact() {
    let drops = Arc::new(AtomicUsize::new(0));
    let list: RcuList<Node, 0, Arc<Node>> = RcuList::new();
    let other: RcuList<Node, 0, Arc<Node>> = RcuList::new();
    let node = Node::shared(0, &drops);
    list.lock().push_back(Arc::clone(&node));

    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        other.lock().push_back(Arc::clone(&node));
    }));
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("on another list"), "{message}");

    let unlinked = list.lock().pop_front().unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        other.lock().push_back(Arc::clone(&node));
    }));
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("grace period has not ended"), "{message}");

    assert_eq!(Arc::strong_count(&node), 2, "rejected Arcs are dropped");
    drop(unlinked);
    other.lock().push_back(Arc::clone(&node));
    assert_eq!(values(&other), [0]);
    drop(other);
    drop(list);
    drop(node);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn defer_and_kfree_rcu_reclaim() {
    let drops = Arc::new(AtomicUsize::new(0));
    let boxed: RcuList<Node> = RcuList::new();
    let shared: RcuList<Node, 1, Arc<Node>> = RcuList::new();
    for value in 0..2 {
        boxed.lock().push_back(Node::boxed(value, &drops));
        shared.lock().push_back(Node::shared(value, &drops));
    }

    let guard = crate::read_lock();
    let mut writer = boxed.lock();
    writer.pop_front().unwrap().kfree_rcu();
    writer.pop_front().unwrap().defer();
    drop(writer);
    let mut writer = shared.lock();
    while let Some(unlinked) = writer.pop_front() {
        unlinked.defer();
    }
    drop(writer);
    drop(guard);

    wait_for_drops(&drops, 4);
}

#[test]
#[should_panic(
    expected = "rcu::list::Unlinked::synchronize() called inside an RCU read-side critical section"
)]
fn synchronize_inside_section_panics() {
    let drops = Arc::new(AtomicUsize::new(0));
    let list: RcuList<Node> = RcuList::new();
    list.lock().push_back(Node::boxed(0, &drops));
    let unlinked: Unlinked<Node> = list.lock().pop_front().unwrap();
    let _guard = crate::read_lock();
    let _ = unlinked.synchronize();
}

#[test]
#[should_panic(
    expected = "Drop for rcu::list::Unlinked called inside an RCU read-side critical section"
)]
fn drop_inside_section_panics() {
    let drops = Arc::new(AtomicUsize::new(0));
    let list: RcuList<Node> = RcuList::new();
    list.lock().push_back(Node::boxed(0, &drops));
    let unlinked: Unlinked<Node> = list.lock().pop_front().unwrap();
    let _guard = crate::read_lock();
    drop(unlinked);
}

#[test]
fn concurrent_reader_sees_live_entries() {
    const ROUNDS: u64 = if cfg!(miri) { 20 } else { 2_000 };
    let drops = Arc::new(AtomicUsize::new(0));
    let list: RcuList<Node> = RcuList::new();
    for value in 0..4 {
        list.lock().push_back(Node::boxed(value, &drops));
    }

    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut walks = 0;
            while walks < ROUNDS {
                let guard = crate::read_lock();
                let mut seen = 0;
                for node in list.iter(&guard) {
                    assert_eq!(node.canary, ALIVE);
                    seen += 1;
                    assert!(seen < 64, "walk did not terminate");
                }
                walks += 1;
            }
        });

        for round in 0..ROUNDS {
            let mut writer = list.lock();
            writer.push_back(Node::boxed(round + 4, &drops));
            let unlinked = writer.pop_front().unwrap();
            drop(writer);
            if round % 2 == 0 {
                drop(unlinked);
            } else {
                unlinked.defer();
            }
        }
        reader.join().unwrap();
    });

    drop(list);
    wait_for_drops(&drops, ROUNDS as usize + 4);
}
