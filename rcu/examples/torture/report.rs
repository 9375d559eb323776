//! Failures found during the run, and the summary printed at its end.

use crate::objects::Path;
use crate::reader::{BATCH_BUCKETS, PIPE_BUCKETS, SAMPLE_EVERY, Source};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The kinds of failure the run can find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A reader saw a pipeline count above 1.
    PipelineTooHigh,
    /// A reader saw a poisoned canary.
    Poisoned,
    /// An object's generation changed under a reader.
    Reused,
    /// A polled grace-period state taken inside a section completed before it ended.
    PolledUnderReader,
    /// `rcu_barrier` returned before a callback queued before it had started.
    BarrierEarly,
    /// A polled-API result contradicted another.
    Api,
    /// Objects retired but never freed, or callbacks that went missing.
    Accounting,
    /// A torture thread panicked.
    ThreadPanicked,
    /// The run made no progress.
    NoProgress,
}

impl Failure {
    const ALL: [Failure; 9] = [
        Failure::PipelineTooHigh,
        Failure::Poisoned,
        Failure::Reused,
        Failure::PolledUnderReader,
        Failure::BarrierEarly,
        Failure::Api,
        Failure::Accounting,
        Failure::ThreadPanicked,
        Failure::NoProgress,
    ];

    fn name(self) -> &'static str {
        match self {
            Failure::PipelineTooHigh => "pipeline_too_high",
            Failure::Poisoned => "poisoned_canary",
            Failure::Reused => "reused_under_reader",
            Failure::PolledUnderReader => "polled_state_completed_under_reader",
            Failure::BarrierEarly => "rcu_barrier_early",
            Failure::Api => "polled_api",
            Failure::Accounting => "accounting",
            Failure::ThreadPanicked => "thread_panicked",
            Failure::NoProgress => "no_progress",
        }
    }
}

static FAILURE_COUNTS: [AtomicU64; 9] = [const { AtomicU64::new(0) }; 9];
/// The first message of each kind of failure.
static FIRST_MESSAGES: Mutex<Vec<(Failure, String)>> = Mutex::new(Vec::new());

/// Counts a failure and keeps the message if it is the first of its kind.
#[cold]
pub fn record_failure(kind: Failure, message: String) {
    let previous = FAILURE_COUNTS[kind as usize].fetch_add(1, Ordering::Relaxed);
    if previous == 0 {
        let mut first = FIRST_MESSAGES.lock().unwrap_or_else(|e| e.into_inner());
        first.push((kind, message));
    }
}

/// Returns the total number of failures recorded so far.
pub fn failure_count() -> u64 {
    FAILURE_COUNTS
        .iter()
        .map(|count| count.load(Ordering::Relaxed))
        .sum()
}

/// Everything the summary reports.
pub struct Summary {
    pub seed: u64,
    pub readers: usize,
    pub writers: usize,
    pub barrier: String,
    pub seconds: f64,
    pub reads: u64,
    pub updates: u64,
    pub grace_periods: u64,
    pub synchronize_calls: u64,
    pub cond_synchronize_calls: u64,
    pub polls_completed: u64,
    pub pool_empty_waits: u64,
    pub callbacks_invoked: u64,
    pub callbacks_panicked: u64,
    pub intentional_panics: u64,
    pub largest_callback_batch: u64,
    pub barrier_calls: u64,
    pub reader_threads: u64,
    pub registrations: u64,
    pub yields: u64,
    pub short_sleeps: u64,
    pub long_sleeps: u64,
    pub nested_sections: u64,
    pub stalls: u64,
    /// Per path: objects retired and freed.
    pub retired: Vec<(Path, u64, u64)>,
    /// Objects freed without being published: losers of a compare-and-exchange.
    pub discarded: u64,
    pub compare_exchange_failures: u64,
    /// Sections per source.
    pub sources: Vec<(Source, u64)>,
    pub list_entries_checked: u64,
    pub null_reads: u64,
    pub pipe: [u64; PIPE_BUCKETS],
    pub batch: [u64; BATCH_BUCKETS],
    pub peak_memory_kib: Option<u64>,
}

impl Summary {
    /// Returns `PASSED` or `FAILED` with its reasons.
    fn verdict(&self) -> (bool, Vec<String>) {
        let messages = FIRST_MESSAGES.lock().unwrap_or_else(|e| e.into_inner());
        let reasons: Vec<String> = messages
            .iter()
            .map(|(kind, message)| {
                let count = FAILURE_COUNTS[*kind as usize].load(Ordering::Relaxed);
                format!("{} ({count}x): {message}", kind.name())
            })
            .collect();
        (reasons.is_empty(), reasons)
    }

    pub fn passed(&self) -> bool {
        self.verdict().0
    }

    /// Formats the summary as text, in the spirit of rcutorture's end-of-test lines.
    pub fn to_text(&self) -> String {
        let (passed, reasons) = self.verdict();
        let per_second = |count: u64| count as f64 / self.seconds.max(1e-9);
        let mut text = String::new();
        let _ = writeln!(
            text,
            "rcu torture: {:.1} s, {} concurrent readers (threads replaced during the run), \
             {} writer{}, barrier {}, seed {}",
            self.seconds,
            self.readers,
            self.writers,
            if self.writers == 1 { "" } else { "s" },
            self.barrier,
            self.seed
        );
        let _ = writeln!(
            text,
            "reads: {} ({:.0}/s)  updates: {} ({:.0}/s)  grace periods: {} ({:.0}/s)",
            self.reads,
            per_second(self.reads),
            self.updates,
            per_second(self.updates),
            self.grace_periods,
            per_second(self.grace_periods),
        );
        let _ = writeln!(
            text,
            "waits: synchronize_rcu {}  cond_synchronize_rcu {}  polls completed {}  pool empty {}",
            self.synchronize_calls,
            self.cond_synchronize_calls,
            self.polls_completed,
            self.pool_empty_waits
        );
        let _ = writeln!(
            text,
            "callbacks: invoked {}  panicked {} (intentional {})  largest batch {}  rcu_barrier calls {}",
            self.callbacks_invoked,
            self.callbacks_panicked,
            self.intentional_panics,
            self.largest_callback_batch,
            self.barrier_calls
        );
        let _ = writeln!(
            text,
            "readers: threads started {}  registrations {}  yields {}  short sleeps {}  long sleeps {}  nested {}  stalls {}",
            self.reader_threads,
            self.registrations,
            self.yields,
            self.short_sleeps,
            self.long_sleeps,
            self.nested_sections,
            self.stalls
        );
        let sources: Vec<String> = self
            .sources
            .iter()
            .map(|(source, count)| format!("{} {count}", source.name()))
            .collect();
        let _ = writeln!(
            text,
            "sections by source: {}  (list entries checked {}, null Rcu reads {})",
            sources.join("  "),
            self.list_entries_checked,
            self.null_reads
        );
        let _ = writeln!(
            text,
            "retire paths:\n  {:<22} {:<54} {:>9} {:>9}",
            "path", "api", "retired", "freed"
        );
        for (path, retired, freed) in &self.retired {
            let _ = writeln!(
                text,
                "  {:<22} {:<54} {retired:>9} {freed:>9}",
                path.name(),
                path.calls()
            );
        }
        let _ = writeln!(
            text,
            "  never published (discarded): {}  compare_exchange failures: {}",
            self.discarded, self.compare_exchange_failures
        );
        let _ = writeln!(
            text,
            "Reader Pipe (objects checked inside sections, one per pointer read and one per \
             list entry, by the pipeline count seen: 0, 1, 2, ..., {}, more; any count in \
             the third column or later is a failure):\n  {}",
            PIPE_BUCKETS - 2,
            join(&self.pipe)
        );
        let _ = writeln!(
            text,
            "Reader Batch (sampled sections, one in {SAMPLE_EVERY} and every one that \
             sleeps, by the grace periods that ended while they ran: 0, 1, ..., {}, more; \
             a report, not a check):\n  {}",
            BATCH_BUCKETS - 2,
            join(&self.batch)
        );
        match self.peak_memory_kib {
            Some(kib) => {
                let _ = writeln!(text, "peak memory (VmHWM): {kib} kB");
            }
            None => {
                let _ = writeln!(text, "peak memory (VmHWM): unavailable");
            }
        }
        let checks: Vec<&str> = Failure::ALL.iter().map(|kind| kind.name()).collect();
        let _ = writeln!(text, "checks: {}", checks.join(" "));
        if passed {
            text.push_str("PASSED (no check fired)\n");
        } else {
            for reason in &reasons {
                let _ = writeln!(text, "FAILED: {reason}");
            }
        }
        text
    }

    /// Formats the summary as one JSON object.
    pub fn to_json(&self) -> String {
        let (passed, reasons) = self.verdict();
        let failures: serde_json::Map<String, serde_json::Value> = Failure::ALL
            .iter()
            .map(|kind| {
                let count = FAILURE_COUNTS[*kind as usize].load(Ordering::Relaxed);
                (kind.name().to_owned(), count.into())
            })
            .collect();
        let retired: serde_json::Map<String, serde_json::Value> = self
            .retired
            .iter()
            .map(|(path, retired, freed)| {
                (
                    path.name().to_owned(),
                    serde_json::json!({ "retired": retired, "freed": freed }),
                )
            })
            .collect();
        let sources: serde_json::Map<String, serde_json::Value> = self
            .sources
            .iter()
            .map(|(source, count)| (source.name().to_owned(), (*count).into()))
            .collect();
        let value = serde_json::json!({
            "result": if passed { "PASSED" } else { "FAILED" },
            "reasons": reasons,
            "failures": failures,
            "seed": self.seed,
            "readers": self.readers,
            "writers": self.writers,
            "barrier": self.barrier,
            "seconds": self.seconds,
            "reads": self.reads,
            "updates": self.updates,
            "grace_periods": self.grace_periods,
            "synchronize_calls": self.synchronize_calls,
            "cond_synchronize_calls": self.cond_synchronize_calls,
            "polls_completed": self.polls_completed,
            "pool_empty_waits": self.pool_empty_waits,
            "callbacks_invoked": self.callbacks_invoked,
            "callbacks_panicked": self.callbacks_panicked,
            "intentional_panics": self.intentional_panics,
            "largest_callback_batch": self.largest_callback_batch,
            "rcu_barrier_calls": self.barrier_calls,
            "reader_threads": self.reader_threads,
            "registrations": self.registrations,
            "yields": self.yields,
            "short_sleeps": self.short_sleeps,
            "long_sleeps": self.long_sleeps,
            "nested_sections": self.nested_sections,
            "stalls": self.stalls,
            "retired": retired,
            "discarded": self.discarded,
            "compare_exchange_failures": self.compare_exchange_failures,
            "sections_by_source": sources,
            "list_entries_checked": self.list_entries_checked,
            "null_rcu_reads": self.null_reads,
            "reader_pipe": self.pipe.to_vec(),
            "reader_batch": self.batch.to_vec(),
            "peak_memory_kib": self.peak_memory_kib,
        });
        serde_json::to_string_pretty(&value).expect("a JSON value always serializes")
    }
}

fn join(counts: &[u64]) -> String {
    counts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads the process's peak resident set size (`VmHWM`) from `/proc/self/status`.
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
