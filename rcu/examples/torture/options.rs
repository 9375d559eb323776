//! Command-line options of the torture run.

use crate::args::OptionArgs;
use std::time::Duration;

/// How the run orders readers against grace periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierChoice {
    /// Whatever the crate picks: membarrier where the kernel offers it.
    Auto,
    /// `membarrier(2)`; the run fails to start where the kernel lacks it.
    Membarrier,
    /// The `SeqCst` fence fallback, forced through `RCU_FORCE_FENCE=1`.
    Fence,
}

/// The parsed command line.
#[derive(Clone, Debug)]
pub struct Options {
    pub readers: usize,
    pub writers: usize,
    pub duration: Duration,
    pub seed: u64,
    pub barrier: BarrierChoice,
    pub json: bool,
}

pub const USAGE: &str = "\
Usage: torture [OPTIONS]

Stresses the rcu crate the way the Linux kernel's rcutorture does: readers check that no
object they can reach leaves the grace-period pipeline, while writers retire objects
through every update API and faults are injected. Exits 0 only when the run PASSED.

Options:
  --readers N          reader threads running at once [default: number of CPUs]
  --writers N          writer threads [default: 1]
  --duration SECONDS   how long to run, fractions allowed [default: 10]
  --seed N             seed of the fault-injection choices [default: from the clock]
  --barrier KIND       auto, membarrier or fence; fence sets RCU_FORCE_FENCE=1 [default: auto]
  --json               print the summary as JSON on stdout instead of text
  -h, --help           print this help
";

/// Parses `args` (without the program name). `Ok(None)` means help was requested.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mut options = Options {
        readers: cpus,
        writers: 1,
        duration: Duration::from_secs(10),
        seed: clock_seed(),
        barrier: BarrierChoice::Auto,
        json: false,
    };

    let mut args = OptionArgs::new(args.into_iter());
    while let Some((name, inline_value)) = args.next_option() {
        let mut value = || args.value(&name, &inline_value);
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--json" => options.json = true,
            "--readers" => options.readers = parse_count(&name, &value()?)?,
            "--writers" => options.writers = parse_count(&name, &value()?)?,
            "--duration" => options.duration = parse_duration(&value()?)?,
            "--seed" => {
                let text = value()?;
                options.seed = text.parse().map_err(|_| {
                    format!("invalid --seed '{text}': expected an unsigned integer")
                })?;
            }
            "--barrier" => {
                let text = value()?;
                options.barrier = match text.as_str() {
                    "auto" => BarrierChoice::Auto,
                    "membarrier" => BarrierChoice::Membarrier,
                    "fence" => BarrierChoice::Fence,
                    _ => {
                        return Err(format!(
                            "invalid --barrier '{text}': expected auto, membarrier or fence"
                        ));
                    }
                };
            }
            _ => return Err(format!("unknown option '{name}'")),
        }
    }
    Ok(Some(options))
}

fn parse_count(name: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(count) if (1..=1024).contains(&count) => Ok(count),
        _ => Err(format!(
            "invalid {name} '{text}': expected an integer from 1 to 1024"
        )),
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let seconds = text.strip_suffix('s').unwrap_or(text);
    match seconds.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 86_400.0 => Ok(Duration::from_secs_f64(seconds)),
        _ => Err(format!(
            "invalid --duration '{text}': expected seconds, more than 0 and at most 86400"
        )),
    }
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64)
}

/// A small, fast generator for fault-injection choices (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Returns `true` with probability `1 / n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.next_u64() % n == 0
    }

    /// Returns a value in `low..high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low)
    }
}
