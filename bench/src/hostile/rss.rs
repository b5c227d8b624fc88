//! The server's resident memory, sampled from `/proc/<pid>/status` every
//! 100 ms for the whole run.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::procfs;

/// Sampling period.
pub const PERIOD: Duration = Duration::from_millis(100);

/// A running sampler: `(time since start, VmRSS KiB)` pairs.
pub struct RssSampler {
    started: Instant,
    samples: Arc<Mutex<Vec<(Duration, u64)>>>,
    task: JoinHandle<()>,
}

impl RssSampler {
    /// Start sampling `pid`.
    pub fn start(pid: u32) -> RssSampler {
        let started = Instant::now();
        let samples = Arc::new(Mutex::new(Vec::new()));
        let sink = samples.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(PERIOD);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                let Some(kib) = procfs::rss_kib(pid) else {
                    break;
                };
                if let Ok(mut s) = sink.lock() {
                    s.push((started.elapsed(), kib));
                }
            }
        });
        RssSampler {
            started,
            samples,
            task,
        }
    }

    /// Time since the sampler started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Where `at` falls on the sampler's clock.
    pub fn offset(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.started)
    }

    fn with<T>(&self, f: impl FnOnce(&[(Duration, u64)]) -> T) -> T {
        match self.samples.lock() {
            Ok(s) => f(&s),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    /// The latest sample, KiB.
    pub fn latest(&self) -> u64 {
        self.with(|s| s.last().map_or(0, |x| x.1))
    }

    /// The highest sample taken at or after `from`, KiB.
    pub fn peak_since(&self, from: Duration) -> u64 {
        self.with(|s| {
            s.iter()
                .filter(|x| x.0 >= from)
                .map(|x| x.1)
                .max()
                .unwrap_or(0)
        })
    }

    /// The first sample at or after `at`, KiB (the latest if none is that late).
    pub fn at(&self, at: Duration) -> u64 {
        self.with(|s| s.iter().find(|x| x.0 >= at).or(s.last()).map_or(0, |x| x.1))
    }

    /// When, at or after `from`, the memory first fell to `kib` or below.
    pub fn first_at_or_below(&self, from: Duration, kib: u64) -> Option<Duration> {
        self.with(|s| s.iter().find(|x| x.0 >= from && x.1 <= kib).map(|x| x.0))
    }

    /// Wait until the sampler's clock reads `at`.
    pub async fn sleep_until(&self, at: Duration) {
        tokio::time::sleep_until((self.started + at).into()).await;
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// KiB as MB with one decimal, for result lines.
pub fn mb(kib: u64) -> String {
    format!("{:.1}MB", kib as f64 / 1024.0)
}

/// A signed KiB difference as MB.
pub fn mb_delta(after: u64, before: u64) -> String {
    format!("{:+.1}MB", (after as f64 - before as f64) / 1024.0)
}
