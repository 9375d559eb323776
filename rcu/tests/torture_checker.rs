//! Proves that the torture run's checker can fail: built with the test-only feature
//! `broken-skip-grace-period`, where grace periods return without waiting, the run must
//! report FAILED and exit non-zero.
//!
//! The test builds the example in release mode in its own target directory under
//! `CARGO_TARGET_TMPDIR`, so it neither waits on the outer build's lock nor disturbs its
//! artifacts; the first run compiles the crate and its dev-dependencies once more.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the build and the run together may take before the test gives up.
const TIME_LIMIT: Duration = Duration::from_secs(1200);

#[test]
fn broken_grace_periods_fail_torture() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("torture-broken");

    let mut child = Command::new(cargo)
        .args(["run", "--release", "--example", "torture"])
        .args(["--features", "broken-skip-grace-period", "--manifest-path"])
        .arg(&manifest)
        .args(["--", "--duration", "3", "--readers", "2", "--seed", "7"])
        .env("CARGO_TARGET_DIR", &target_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start cargo to build and run the torture example");

    // Read both pipes on threads, so a full pipe never blocks the child.
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stdout_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("failed to poll the cargo process") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "building and running the broken torture example took more than {} s",
                TIME_LIMIT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = stdout_reader.join().expect("the stdout reader panicked");
    let stderr = stderr_reader.join().expect("the stderr reader panicked");
    let tail: String = stderr
        .lines()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");

    assert!(
        stdout.contains("reads:"),
        "the torture example did not print a summary, so it probably failed to build or \
         start.\nstdout:\n{stdout}\nstderr (last lines):\n{tail}"
    );
    assert!(
        !status.success(),
        "the broken build exited successfully\nstdout:\n{stdout}"
    );
    assert!(
        stdout.contains("FAILED"),
        "the broken build did not report FAILED\nstdout:\n{stdout}"
    );
    assert!(
        !stdout.contains("PASSED"),
        "the broken build reported PASSED\nstdout:\n{stdout}"
    );
    assert!(
        stdout.contains("pipeline_too_high")
            || stdout.contains("poisoned_canary")
            || stdout.contains("reused_under_reader"),
        "the broken build failed, but not through a reader check\nstdout:\n{stdout}"
    );
}
