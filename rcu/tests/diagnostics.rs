//! What the engine reports to the person operating it: stall warnings and threads that
//! exit inside a read-side critical section.

use std::cell::RefCell;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// Runs one grace period that stalls on a reader thread named `reader_name`.
///
/// The reader keeps its section open until the engine has counted the stall, so the test
/// does not depend on how fast the machine runs the grace period. It gives up after 30
/// seconds, long after any stall timeout these tests set.
fn stall_on_reader(reader_name: &str) {
    let stalls_before = rcu::stats().stalls;
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let reader = thread::Builder::new()
        .name(reader_name.into())
        .spawn(move || {
            let guard = rcu::read_lock();
            entered_tx.send(()).unwrap();
            let deadline = Instant::now() + Duration::from_secs(30);
            while rcu::stats().stalls <= stalls_before && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
            drop(guard);
        })
        .unwrap();
    entered_rx.recv().unwrap();
    rcu::synchronize_rcu();
    reader.join().unwrap();
}

/// Records every log line, so tests can check what a user would see.
struct CaptureLogger {
    records: Mutex<Vec<(log::Level, String)>>,
}

impl log::Log for CaptureLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = record.args().to_string();
        self.records.lock().unwrap().push((record.level(), line));
    }

    fn flush(&self) {}
}

static LOGGER: CaptureLogger = CaptureLogger {
    records: Mutex::new(Vec::new()),
};

fn logged(level: log::Level, needle: &str) -> Vec<String> {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
    LOGGER
        .records
        .lock()
        .unwrap()
        .iter()
        .filter(|(found, line)| *found == level && line.contains(needle))
        .map(|(_, line)| line.clone())
        .collect()
}

/// Serializes the tests: both change process-wide settings or counters.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn stall_warning_names_the_reader_once() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    logged(log::Level::Warn, "");
    rcu::set_stall_timeout(Duration::from_millis(50));
    let stalls_before = rcu::stats().stalls;

    stall_on_reader("slow-reader");
    rcu::set_stall_timeout(rcu::DEFAULT_STALL_TIMEOUT);

    let warnings = logged(log::Level::Warn, "'slow-reader'");
    assert_eq!(
        warnings.len(),
        1,
        "expected one stall warning, got {warnings:?}"
    );
    assert!(warnings[0].contains("stall"), "{}", warnings[0]);
    assert!(
        warnings[0].contains("read-side critical section"),
        "{}",
        warnings[0]
    );
    assert_eq!(rcu::stats().stalls, stalls_before + 1);
}

thread_local! {
    /// Initialized before the thread's first `read_lock`, so it is destroyed after the
    /// thread's RCU registration: a Guard kept here outlives the registration.
    static KEPT_GUARD: RefCell<Option<rcu::Guard>> = const { RefCell::new(None) };
}

#[test]
fn exit_inside_section_is_reported_and_recovers() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let before = rcu::stats().readers_exited_in_section;
    logged(log::Level::Error, "");

    thread::Builder::new()
        .name("leaves-early".into())
        .spawn(|| {
            KEPT_GUARD.with(|slot| {
                let guard = rcu::read_lock();
                *slot.borrow_mut() = Some(guard);
            });
        })
        .unwrap()
        .join()
        .unwrap();

    let errors = logged(log::Level::Error, "'leaves-early'");
    assert_eq!(errors.len(), 1, "expected one report, got {errors:?}");
    assert!(
        errors[0].contains("exiting inside an RCU read-side critical section"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("Drop every Guard"), "{}", errors[0]);
    assert_eq!(rcu::stats().readers_exited_in_section, before + 1);

    // The guard was dropped with the thread's other thread-locals, so grace periods
    // complete again.
    rcu::synchronize_rcu();
}

/// Without a logger the stall warning goes to standard error: runs
/// `stall_without_logger_child` in a fresh process, where no logger is installed.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn stall_without_logger_goes_to_stderr() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "stall_without_logger_child",
            "--nocapture",
        ])
        .output()
        .expect("failed to run the child test process");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed: {stderr}");
    assert!(
        stderr.contains("[WARN] rcu: stall:") && stderr.contains("'stalling-reader'"),
        "no stall warning on stderr:\n{stderr}"
    );
}

/// Runs the body of `stall_without_logger_goes_to_stderr` in a process with no logger.
#[test]
#[ignore = "run by stall_without_logger_goes_to_stderr in a child process"]
fn stall_without_logger_child() {
    rcu::set_stall_timeout(Duration::from_millis(50));
    stall_on_reader("stalling-reader");
}

/// A callback that leaks a guard leaves the callback thread inside a section for good.
#[derive(rcu::HasField)]
struct LeaksGuard {
    #[field]
    head: rcu::RcuHead,
}

impl rcu::RcuCallback for LeaksGuard {
    fn invoke(self: Box<Self>) {
        core::mem::forget(rcu::read_lock());
    }
}

/// The callback thread names the mistake when a callback returns inside a section: runs
/// `leaked_guard_child` in a fresh process, whose grace periods can never end afterwards,
/// and reads its standard error until the report arrives.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn callback_that_leaks_a_guard_is_reported() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "leaked_guard_child", "--nocapture"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("failed to run the child test process");
    let stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut reported = false;
    // The child exits on its own after 30 seconds, which ends this loop if the report
    // never comes.
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        reported = line.contains("an RCU callback returned inside a read-side critical section");
        seen.push(line);
        if reported {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(reported, "no report on stderr:\n{}", seen.join("\n"));
    let report = seen.last().unwrap();
    assert!(
        report.contains("Drop every Guard a callback takes"),
        "{report}"
    );
    assert!(report.contains("`rcu-callbacks` stops here"), "{report}");
}

/// Runs the body of `callback_that_leaks_a_guard_is_reported` in a process of its own.
#[test]
#[ignore = "run by callback_that_leaks_a_guard_is_reported in a child process"]
fn leaked_guard_child() {
    rcu::call_rcu_box(Box::new(LeaksGuard {
        head: rcu::RcuHead::new(),
    }));
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
}
