//! Warnings a client can cause are bounded per client: a flood of malformed
//! requests, or a handler failing on every event, must not write a line per
//! packet (millions of lines fill a disk, and a slow log sink stalls the
//! server). A client gets [`PER_WINDOW`] warnings per [`WINDOW`]; the rest
//! are counted, and the next warning written says how many were left out.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::clock;

/// The length of a warning window.
pub(crate) const WINDOW: Duration = Duration::from_secs(10);
/// Warnings written per client per window.
pub(crate) const PER_WINDOW: u32 = 5;

/// One client's warning budget: three counters, no lock.
#[derive(Debug, Default)]
pub(crate) struct WarnBudget {
    /// The window the counts belong to (windows since the process started).
    window: AtomicU32,
    used: AtomicU32,
    suppressed: AtomicU32,
}

fn current_window() -> u32 {
    u32::try_from(clock::since_start().as_secs() / WINDOW.as_secs()).unwrap_or(u32::MAX)
}

impl WarnBudget {
    /// `Some(left_out)` when a warning may be written now, with how many were
    /// left out since the last one written; `None` when it is to be left out.
    pub(crate) fn admit(&self) -> Option<u32> {
        self.admit_in(current_window())
    }

    fn admit_in(&self, window: u32) -> Option<u32> {
        let seen = self.window.load(Ordering::Relaxed);
        if seen != window
            && self
                .window
                .compare_exchange(seen, window, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // A new window (approximate under races: a few more lines at most).
            self.used.store(0, Ordering::Relaxed);
        }
        if self.used.fetch_add(1, Ordering::Relaxed) < PER_WINDOW {
            Some(self.suppressed.swap(0, Ordering::Relaxed))
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// A warning caused by one client, within its budget and in its span:
/// `client_warn!(record, %error, "join refused")`. The line carries
/// `left_out`, the warnings of this client not written since the last one.
macro_rules! client_warn {
    ($record:expr, $($rest:tt)+) => {
        if let Some(left_out) = $record.warnings.admit() {
            tracing::warn!(parent: &$record.span, left_out, $($rest)+);
        }
    };
}
pub(crate) use client_warn;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_writes_a_few_lines_per_window_and_counts_the_rest() {
        let budget = WarnBudget::default();
        let written: Vec<u32> = (0..1000).filter_map(|_| budget.admit_in(0)).collect();
        assert_eq!(written, vec![0; PER_WINDOW as usize]);
        // The next window writes again and says how many were left out.
        assert_eq!(budget.admit_in(1), Some(1000 - PER_WINDOW));
        assert_eq!(budget.admit_in(1), Some(0));
    }
}
