//! Latency histograms shared by many connection tasks, and medians.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Instant;

use hdrhistogram::Histogram;

/// Microseconds since the generator started: the one clock that send
/// timestamps and receive times share.
pub fn now_micros() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

const SHARDS: usize = 16;
/// Highest latency recorded, in microseconds (two minutes).
const MAX_MICROS: u64 = 120_000_000;

/// A latency histogram in microseconds (two significant figures: 1 %
/// resolution, and a table small enough to stay in cache when the fan-out
/// records every delivery), sharded so that thousands of
/// connection tasks can record without contending on one lock.
pub struct Latencies {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    /// An empty histogram (1 µs to 2 min, 2 significant figures).
    pub fn new() -> Latencies {
        let shards = (0..SHARDS).map(|_| Mutex::new(new_histogram())).collect();
        Latencies { shards }
    }

    /// Record one latency for connection `index`.
    pub fn record(&self, index: usize, micros: u64) {
        if let Ok(mut h) = self.shards[index % SHARDS].lock() {
            let _ = h.record(micros.clamp(1, MAX_MICROS));
        }
    }

    /// Merge the shards: count, p50, p99 and max in milliseconds.
    pub fn summary(&self) -> Summary {
        let mut all = new_histogram();
        for shard in &self.shards {
            if let Ok(h) = shard.lock() {
                let _ = all.add(&*h);
            }
        }
        let ms = |v: u64| v as f64 / 1000.0;
        Summary {
            count: all.len(),
            p50_ms: ms(all.value_at_quantile(0.50)),
            p99_ms: ms(all.value_at_quantile(0.99)),
            max_ms: ms(all.max()),
        }
    }
}

#[allow(clippy::expect_used)] // constant, valid bounds: cannot fail
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 2).expect("valid histogram bounds")
}

/// Percentiles of one histogram.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Number of samples.
    pub count: u64,
    /// Median in ms.
    pub p50_ms: f64,
    /// 99th percentile in ms.
    pub p99_ms: f64,
    /// Maximum in ms.
    pub max_ms: f64,
}

/// Median of the finite values, if any.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_sets() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN]), None);
    }

    #[test]
    fn summary_merges_shards() {
        let l = Latencies::new();
        for i in 0..100u64 {
            l.record(i as usize, (i + 1) * 1000);
        }
        let s = l.summary();
        assert_eq!(s.count, 100);
        assert!((s.p50_ms - 50.0).abs() < 1.0, "{s:?}");
        assert!((s.p99_ms - 99.0).abs() < 1.0, "{s:?}");
    }
}
