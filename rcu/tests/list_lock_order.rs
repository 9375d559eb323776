//! The list's writer lock and grace periods: taking the lock inside a read-side section
//! and waiting for a grace period while holding it are each fine, and together on one
//! list they panic instead of deadlocking.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use rcu::{HasField, ListLinks, RcuHead, RcuList};

#[derive(HasField)]
#[has_field(crate = "rcu::has_field")]
struct Entry {
    value: u32,
    #[field]
    links: ListLinks,
    #[field]
    head: RcuHead,
}

fn entry(value: u32) -> Box<Entry> {
    Box::new(Entry {
        value,
        links: ListLinks::new(),
        head: RcuHead::new(),
    })
}

fn list_of(values: &[u32]) -> RcuList<Entry> {
    let list = RcuList::new();
    let mut writer = list.lock();
    for &value in values {
        writer.push_back(entry(value));
    }
    drop(writer);
    list
}

const WAIT_UNDER_LOCK: &str = "holds the writer lock of an RcuList that a reader has taken \
                               inside an RCU read-side critical section";
const LOCK_IN_SECTION: &str = "RcuList::lock() called inside an RCU read-side critical \
                               section on a list whose writer lock has been held while \
                               waiting for a grace period";

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| {
            payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
        })
        .unwrap_or_default()
}

#[test]
fn lock_order_allows_either_half() {
    let locked_in_sections = list_of(&[1, 2]);
    for _ in 0..3 {
        let guard = rcu::read_lock();
        let first = locked_in_sections.iter(&guard).next().unwrap();
        let mut writer = locked_in_sections.lock();
        writer.remove(first).unwrap().defer();
        writer.push_back(entry(3));
        drop(writer);
        drop(guard);
    }

    let waited_under_lock = list_of(&[1, 2]);
    for _ in 0..3 {
        let mut writer = waited_under_lock.lock();
        let unlinked = writer.pop_front().unwrap();
        let value = unlinked.synchronize().value;
        writer.push_back(entry(value));
        rcu::synchronize_rcu();
        rcu::rcu_barrier();
    }
    assert_eq!(waited_under_lock.lock().len(), 2);
}

#[test]
#[should_panic(expected = "holds the writer lock of an RcuList that a reader has taken")]
fn wait_under_lock_taken_in_section_panics() {
    let list = list_of(&[1, 2]);
    {
        let guard = rcu::read_lock();
        let writer = list.lock();
        drop(writer);
        drop(guard);
    }
    let mut writer = list.lock();
    let unlinked = writer.pop_front().unwrap();
    let _ = unlinked.synchronize();
}

#[test]
#[should_panic(expected = "RcuList::lock() called inside an RCU read-side critical section")]
fn lock_in_section_after_wait_panics() {
    let list = list_of(&[1, 2]);
    {
        let writer = list.lock();
        rcu::synchronize_rcu();
        drop(writer);
    }
    let _guard = rcu::read_lock();
    let _writer = list.lock();
}

/// Backpressure makes a caller wait for the callback thread, which waits for a grace
/// period. A thread that holds a writer lock skips that wait, as it does inside a
/// section, so a reader in a section here blocks nothing.
#[test]
fn backlog_skips_wait_under_writer_lock() {
    let list = list_of(&[]);
    let (entered_tx, entered_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let reader = thread::spawn(move || {
        let guard = rcu::read_lock();
        entered_tx.send(()).unwrap();
        // A writer that waited for the backlog would wait for this section, so it would
        // not be done before the timeout.
        let done_in_time = done_rx.recv_timeout(Duration::from_secs(10)).is_ok();
        drop(guard);
        done_in_time
    });
    entered_rx.recv().unwrap();

    let limit = rcu::callback_limit();
    rcu::set_callback_limit(1);
    let writer = list.lock();
    for value in 0..1_000u32 {
        drop(rcu::RcuBox::new(value));
    }
    drop(writer);
    done_tx.send(()).unwrap();
    rcu::set_callback_limit(limit);

    assert!(
        reader.join().unwrap(),
        "a thread holding a list's writer lock waited for the callback backlog"
    );
    rcu::rcu_barrier();
}

/// The deadlock itself: a writer waits for a grace period with the lock held while a
/// reader, inside its section, waits for the lock. Whichever half comes second
/// panics, so the run ends either way.
#[test]
fn racing_pair_panics_not_deadlocks() {
    let list = Arc::new(list_of(&[1, 2, 3]));
    let (entered_tx, entered_rx) = mpsc::channel();
    let reader = {
        let list = Arc::clone(&list);
        thread::spawn(move || {
            catch_unwind(AssertUnwindSafe(|| {
                let guard = rcu::read_lock();
                entered_tx.send(()).unwrap();
                let first = list.iter(&guard).next().map(|entry| entry.value);
                let writer = list.lock();
                drop(writer);
                drop(guard);
                first
            }))
            .map_err(|payload| panic_message(&*payload))
        })
    };
    entered_rx.recv().unwrap();
    let writer_result = catch_unwind(AssertUnwindSafe(|| {
        let mut writer = list.lock();
        let unlinked = writer.pop_front().unwrap();
        drop(unlinked);
        drop(writer);
    }))
    .map_err(|payload| panic_message(&*payload));
    let reader_result = reader.join().unwrap();

    match (&writer_result, &reader_result) {
        (Err(message), Ok(_)) => assert!(message.contains(WAIT_UNDER_LOCK), "{message}"),
        (Ok(()), Err(message)) => assert!(message.contains(LOCK_IN_SECTION), "{message}"),
        other => panic!("expected exactly one side to panic, got {other:?}"),
    }
}
