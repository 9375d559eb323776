//! RcuList under load: readers walk while writers insert and remove at full speed.
//!
//! Every node carries a canary that its destructor overwrites, and every node id has a
//! drop counter, so a reader that sees a reclaimed node, and a node reclaimed twice or
//! never, both fail the test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rcu::{HasField, ListLinks, RcuHead, RcuList};

const ALIVE: u64 = 0x5AFE_5AFE_5AFE_5AFE;
const DEAD: u64 = 0xDEAD_BEEF_DEAD_BEEF;
const RUN_TIME: Duration = Duration::from_millis(700);

struct DropLedger {
    counts: Vec<AtomicU8>,
    next_id: AtomicU64,
}

impl DropLedger {
    fn new(capacity: usize) -> Arc<DropLedger> {
        Arc::new(DropLedger {
            counts: (0..capacity).map(|_| AtomicU8::new(0)).collect(),
            next_id: AtomicU64::new(0),
        })
    }

    fn issued(&self) -> usize {
        self.next_id.load(Ordering::SeqCst) as usize
    }

    /// Waits for deferred reclamation, then checks that each issued node was dropped once.
    fn assert_each_dropped_once(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let dropped = |ledger: &DropLedger| {
            ledger.counts[..ledger.issued()]
                .iter()
                .filter(|count| count.load(Ordering::SeqCst) != 0)
                .count()
        };
        while dropped(self) < self.issued() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        for (id, count) in self.counts[..self.issued()].iter().enumerate() {
            assert_eq!(count.load(Ordering::SeqCst), 1, "node {id} drop count");
        }
    }
}

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Node {
    id: u64,
    canary: AtomicU64,
    ledger: Arc<DropLedger>,
    #[field]
    links: ListLinks<0>,
    #[field]
    other_links: ListLinks<1>,
    #[field]
    head: RcuHead,
}

impl Node {
    fn new(ledger: &Arc<DropLedger>) -> Node {
        let id = ledger.next_id.fetch_add(1, Ordering::SeqCst);
        assert!((id as usize) < ledger.counts.len(), "ledger too small");
        Node {
            id,
            canary: AtomicU64::new(ALIVE),
            ledger: Arc::clone(ledger),
            links: ListLinks::new(),
            other_links: ListLinks::new(),
            head: RcuHead::new(),
        }
    }

    fn check_alive(&self) {
        let canary = self.canary.load(Ordering::Relaxed);
        assert_eq!(canary, ALIVE, "a reader saw node {} after it was reclaimed", self.id);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.check_alive();
        self.canary.store(DEAD, Ordering::Relaxed);
        self.ledger.counts[self.id as usize].fetch_add(1, Ordering::SeqCst);
    }
}

/// A small xorshift generator, so each writer makes different choices without a crate.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// Walks `list` under one guard, checking every node; returns the number seen.
fn walk<const ID: u64, P: rcu::list::ListPointer<Node>>(list: &RcuList<Node, ID, P>) -> usize
where
    Node: HasField<Node, ListLinks<ID>>,
{
    let guard = rcu::read_lock();
    let mut seen = 0;
    for node in list.iter(&guard) {
        node.check_alive();
        seen += 1;
        assert!(seen < 100_000, "walk did not terminate");
    }
    seen
}

#[test]
fn readers_see_live_nodes_under_writers() {
    let ledger = DropLedger::new(4_000_000);
    let list: RcuList<Node> = RcuList::new();
    for _ in 0..64 {
        list.lock().push_back(Box::new(Node::new(&ledger)));
    }
    let stop = AtomicBool::new(false);
    let walks = AtomicU64::new(0);
    let updates = AtomicU64::new(0);

    thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    walk(&list);
                    walks.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for seed in 1..=2u64 {
            let (list, ledger, stop, updates) = (&list, &ledger, &stop, &updates);
            scope.spawn(move || {
                let mut rng = Rng(seed * 0x9E37_79B9_7F4A_7C15);
                let mut pending = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let guard = rcu::read_lock();
                    let mut writer = list.lock();
                    match rng.below(3) {
                        0 => writer.push_front(Box::new(Node::new(ledger))),
                        1 => writer.push_back(Box::new(Node::new(ledger))),
                        _ => {
                            let position = rng.below(writer.len() as u64 + 1) as usize;
                            let node = Box::new(Node::new(ledger));
                            match list.iter(&guard).nth(position) {
                                Some(after) => {
                                    assert!(writer.insert_after(after, node).is_ok());
                                }
                                None => writer.push_back(node),
                            }
                        }
                    }
                    let position = rng.below(writer.len() as u64) as usize;
                    let victim = list.iter(&guard).nth(position).expect("list is not empty");
                    pending.push(writer.remove(victim).expect("victim is on the list"));
                    drop(writer);
                    drop(guard);
                    updates.fetch_add(1, Ordering::Relaxed);

                    // Reclaim in every way the API offers.
                    if pending.len() >= 8 {
                        for (index, unlinked) in pending.drain(..).enumerate() {
                            match index % 4 {
                                0 => unlinked.kfree_rcu(),
                                1 => unlinked.defer(),
                                2 => drop(unlinked.synchronize()),
                                _ => drop(unlinked),
                            }
                        }
                    }
                }
            });
        }
        thread::sleep(RUN_TIME);
        stop.store(true, Ordering::Relaxed);
    });

    assert_eq!(walk(&list), 64, "each update inserts one node and removes one");
    assert!(walks.load(Ordering::Relaxed) > 0);
    assert!(updates.load(Ordering::Relaxed) > 0);
    drop(list);
    ledger.assert_each_dropped_once();
}

#[test]
fn node_on_two_lists_survives_removal_from_one() {
    let ledger = DropLedger::new(1_000_000);
    let primary: RcuList<Node, 0, Arc<Node>> = RcuList::new();
    let secondary: RcuList<Node, 1, Arc<Node>> = RcuList::new();
    for _ in 0..32 {
        let node = Arc::new(Node::new(&ledger));
        primary.lock().push_back(Arc::clone(&node));
        secondary.lock().push_back(node);
    }
    let stop = AtomicBool::new(false);

    thread::scope(|scope| {
        // Readers walk both lists; nodes leave and rejoin the secondary list only.
        for _ in 0..2 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(walk(&primary), 32, "the primary list never changes");
                    walk(&secondary);
                }
            });
        }
        scope.spawn(|| {
            let mut rng = Rng(0x2545_F491_4F6C_DD1D);
            while !stop.load(Ordering::Relaxed) {
                let guard = rcu::read_lock();
                let position = rng.below(32) as usize;
                let node = primary.iter(&guard).nth(position).unwrap();
                let unlinked = secondary.lock().remove(node);
                node.check_alive();
                drop(guard);

                // A node that is off the secondary list goes back after its grace period.
                if let Some(unlinked) = unlinked {
                    let node = unlinked.synchronize();
                    assert!(Arc::strong_count(&node) >= 2, "the primary list holds a count");
                    if rng.below(2) == 0 {
                        secondary.lock().push_front(node);
                    } else {
                        secondary.lock().push_back(node);
                    }
                }
            }
        });
        thread::sleep(RUN_TIME);
        stop.store(true, Ordering::Relaxed);
    });

    assert_eq!(walk(&secondary), 32);
    drop(secondary);
    assert_eq!(walk(&primary), 32, "nodes stay on the primary list");
    drop(primary);
    ledger.assert_each_dropped_once();
}

#[test]
fn list_drop_reclaims_remaining_entries() {
    let ledger = DropLedger::new(100);
    let list: RcuList<Node> = RcuList::new();
    for _ in 0..100 {
        list.lock().push_back(Box::new(Node::new(&ledger)));
    }
    let removed = list.lock().pop_front().unwrap();
    drop(list);
    assert_eq!(removed.id, 0, "an Unlinked outlives its list");
    drop(removed);
    ledger.assert_each_dropped_once();
}
