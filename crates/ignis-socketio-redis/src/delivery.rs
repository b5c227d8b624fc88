//! What a PUBLISH reached: the servers each fleet (key and namespace) was seen
//! to have, whether the last publishes reached them all, and the counters of
//! the Redis connections.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// Counters of the Redis connections since they were opened: a snapshot, read
/// with [`RedisConnection::counters`](crate::RedisConnection::counters),
/// [`RedisEmitter::counters`](crate::RedisEmitter::counters) or
/// [`RedisAdapterState::counters`](crate::RedisAdapterState::counters). Every
/// field only grows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedisCounters {
    /// PUBLISH commands Redis answered.
    pub publishes: u64,
    /// PUBLISH commands that failed: not sent (Redis unreachable), or sent and
    /// not answered in time. Each failed send counts once.
    pub publish_failures: u64,
    /// PUBLISH commands that Redis answered with fewer subscribers than the
    /// servers seen in their fleet (same key and namespace): some server did
    /// not receive the message, typically one that has not resubscribed yet
    /// after a Redis restart. The send itself succeeded.
    pub short_publishes: u64,
    /// Publishing connections opened again after one was lost.
    pub publisher_reconnects: u64,
    /// Times the subscriber connection was re-established and resubscribed
    /// (always 0 for an emitter, which does not subscribe).
    pub subscriber_reconnects: u64,
    /// PUBLISH commands in flight now (at most
    /// [`RedisConfig::max_in_flight_publishes`](crate::RedisConfig::max_in_flight_publishes)).
    pub publishes_in_flight: u64,
    /// The most PUBLISH commands ever in flight at once.
    pub publishes_in_flight_peak: u64,
    /// Publishes that had to wait for one in flight to be answered (the
    /// bound was reached: Redis slower than the senders).
    pub publish_waits: u64,
}

/// The publishing side's counters, shared by every clone of a connection.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) publishes: AtomicU64,
    pub(crate) publish_failures: AtomicU64,
    pub(crate) short_publishes: AtomicU64,
    pub(crate) publisher_reconnects: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) in_flight_peak: AtomicU64,
    pub(crate) publish_waits: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> RedisCounters {
        RedisCounters {
            publishes: self.publishes.load(Ordering::Relaxed),
            publish_failures: self.publish_failures.load(Ordering::Relaxed),
            short_publishes: self.short_publishes.load(Ordering::Relaxed),
            publisher_reconnects: self.publisher_reconnects.load(Ordering::Relaxed),
            subscriber_reconnects: 0,
            publishes_in_flight: self.in_flight.load(Ordering::Relaxed),
            publishes_in_flight_peak: self.in_flight_peak.load(Ordering::Relaxed),
            publish_waits: self.publish_waits.load(Ordering::Relaxed),
        }
    }
}

/// What one PUBLISH to a fleet reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Every server seen in the fleet (or more).
    Complete,
    /// Fewer subscribers than the servers seen.
    Short { reached: usize, expected: usize },
}

#[derive(Debug, Default)]
struct Fleet {
    /// The most servers seen subscribed at once.
    expected: usize,
    /// The servers subscribed at the last observation.
    reached: usize,
    /// Since when the fleet has been found smaller than `expected`.
    short_since: Option<Instant>,
}

/// The size of each fleet, learned from PUBLISH replies and `PUBSUB NUMSUB`.
///
/// A fleet found smaller than it was counts as incomplete (a server lost its
/// subscription, e.g. to a Redis restart, and has not resubscribed) until it
/// is whole again, or for at most `grace`: a fleet still smaller after that
/// lost a server for good (scaled down), and its smaller size becomes the
/// expected one.
#[derive(Debug)]
pub(crate) struct FleetTracker {
    grace: Duration,
    fleets: Mutex<HashMap<String, Fleet>>,
}

impl FleetTracker {
    pub(crate) fn new(grace: Duration) -> Self {
        Self {
            grace,
            fleets: Mutex::new(HashMap::new()),
        }
    }

    /// Records that `reached` servers of `fleet` are subscribed now.
    pub(crate) fn observe(&self, fleet: &str, reached: usize) -> Reach {
        let now = Instant::now();
        let mut fleets = self.fleets.lock().unwrap_or_else(|p| p.into_inner());
        if !fleets.contains_key(fleet) {
            fleets.insert(fleet.to_owned(), Fleet::default());
        }
        let Some(entry) = fleets.get_mut(fleet) else {
            return Reach::Complete;
        };
        entry.reached = reached;
        if reached >= entry.expected {
            entry.expected = reached;
            entry.short_since = None;
            return Reach::Complete;
        }
        let since = *entry.short_since.get_or_insert(now);
        if now.duration_since(since) >= self.grace {
            tracing::info!(
                fleet,
                servers = reached,
                was = entry.expected,
                "fewer servers subscribed for longer than the grace period: the fleet shrank"
            );
            entry.expected = reached;
            entry.short_since = None;
            return Reach::Complete;
        }
        Reach::Short {
            reached,
            expected: entry.expected,
        }
    }

    /// How many servers the fleets miss now: for each fleet found smaller
    /// than it was within the grace period, the difference. 0 when the last
    /// observation of every fleet reached all of its servers.
    pub(crate) fn missing(&self) -> usize {
        let fleets = self.fleets.lock().unwrap_or_else(|p| p.into_inner());
        fleets
            .values()
            .filter(|fleet| fleet.short_since.is_some_and(|s| s.elapsed() < self.grace))
            .map(|fleet| fleet.expected.saturating_sub(fleet.reached))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_smaller_fleet_is_short_until_whole_again() {
        let tracker = FleetTracker::new(Duration::from_secs(60));
        assert_eq!(tracker.observe("k#/#", 2), Reach::Complete);
        assert_eq!(
            tracker.observe("k#/#", 1),
            Reach::Short {
                reached: 1,
                expected: 2
            }
        );
        assert_eq!(tracker.missing(), 1);
        assert_eq!(tracker.observe("other#/#", 1), Reach::Complete);
        assert_eq!(tracker.observe("k#/#", 2), Reach::Complete);
        assert_eq!(tracker.missing(), 0);
    }

    #[test]
    fn a_fleet_smaller_for_longer_than_the_grace_shrank() {
        let tracker = FleetTracker::new(Duration::ZERO);
        assert_eq!(tracker.observe("k#/#", 3), Reach::Complete);
        assert_eq!(tracker.observe("k#/#", 2), Reach::Complete);
        assert_eq!(tracker.missing(), 0);
        assert_eq!(tracker.observe("k#/#", 2), Reach::Complete);
    }
}
