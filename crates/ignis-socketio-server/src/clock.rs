//! A coarse process clock for per-client budgets: time since the first
//! reading, cheap to read and small to store.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Time since the clock was first read in this process.
pub(crate) fn since_start() -> Duration {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// [`since_start`] in milliseconds as a `u32` that is never 0 (0 can then
/// mean "never"). It wraps after about 49 days: readers compare two readings
/// with `wrapping_sub`, which is right for spans shorter than that.
pub(crate) fn millis() -> u32 {
    // Truncation is the wrap described above.
    (since_start().as_millis() as u32).max(1)
}
