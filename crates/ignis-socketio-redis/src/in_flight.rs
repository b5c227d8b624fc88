//! The bound on PUBLISH commands in flight: past it a publish waits (in
//! order) for a place, so that a burst of broadcasts while Redis is slow
//! holds at most that many commands and payloads, and the callers (event
//! handlers, each holding up its own client's reading) push back instead.
//! Waits are counted; a warning says how many, once per window at most.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::delivery::Counters;

/// At most one "publishes are waiting" warning per this long.
const REPORT_WINDOW: Duration = Duration::from_secs(10);

/// The places for commands in flight.
pub(crate) struct InFlight {
    places: Semaphore,
    /// When the last warning was written.
    reported: Mutex<Option<Instant>>,
    /// Waits not reported in a warning yet.
    unreported: AtomicU64,
}

/// A place taken: the command is in flight until this is dropped.
pub(crate) struct Place<'a> {
    _permit: SemaphorePermit<'a>,
    counters: &'a Counters,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl InFlight {
    /// Room for `max` commands in flight (at least one).
    pub(crate) fn new(max: usize) -> Self {
        InFlight {
            places: Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS)),
            reported: Mutex::new(None),
            unreported: AtomicU64::new(0),
        }
    }

    /// Takes a place, waiting for one when all are taken; `None` once the
    /// connection is closed.
    pub(crate) async fn enter<'a>(
        &'a self,
        counters: &'a Counters,
        target: &str,
    ) -> Option<Place<'a>> {
        let permit = match self.places.try_acquire() {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::Closed) => return None,
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                Counters::bump(&counters.publish_waits);
                self.report_wait(target);
                self.places.acquire().await.ok()?
            }
        };
        let now = counters.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        counters.in_flight_peak.fetch_max(now, Ordering::Relaxed);
        Some(Place {
            _permit: permit,
            counters,
        })
    }

    /// Refuses every waiting and later publish.
    pub(crate) fn close(&self) {
        self.places.close();
    }

    /// Counts a wait; writes a warning with the count when the last one is
    /// a window old.
    fn report_wait(&self, target: &str) {
        self.unreported.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut reported = self.reported.lock().unwrap_or_else(|p| p.into_inner());
        if reported.is_some_and(|at| now.duration_since(at) < REPORT_WINDOW) {
            return;
        }
        *reported = Some(now);
        drop(reported);
        let waits = self.unreported.swap(0, Ordering::Relaxed);
        tracing::warn!(
            target = %target,
            waits,
            "Redis is slower than the publishes: publishes wait for one in flight to be answered (the callers, and their clients, are held back)"
        );
    }
}
