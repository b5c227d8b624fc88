//! Per-socket rate limits: one token bucket per class of incoming events
//! (`authenticate`; `join`/`leave`; application events), refilled lazily
//! from the coarse clock when an event arrives: no timer, no task, no
//! allocation, 32 bytes per socket.
//!
//! A socket that keeps sending over a limit is told apart from one that
//! bursts once: dropped events in a row with no pause of [`QUIET`] or more
//! form a run, and a run longer than the configured
//! [`ServerOptions::rate_limit_disconnect_after`](crate::ServerOptions::rate_limit_disconnect_after)
//! disconnects the socket.

use std::fmt;
use std::time::Duration;

use ignis_socketio_protocol::events;

/// A token bucket's size and refill: `burst` events at once, then
/// `per_second` on average.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Events accepted at once from a socket that was quiet (the bucket's
    /// size). From 1 to [`RateLimit::MAX_BURST`].
    pub burst: u32,
    /// Events per second the bucket refills with. Not zero.
    pub per_second: u32,
}

impl RateLimit {
    /// The largest `burst` accepted.
    pub const MAX_BURST: u32 = 1_000_000;

    /// `burst` events at once, then `per_second`.
    pub const fn new(burst: u32, per_second: u32) -> Self {
        RateLimit { burst, per_second }
    }
}

/// Default limit of application events per socket: bursts of 5 000 (a
/// client replaying a backlog), 2 500 per second after.
pub const DEFAULT_EVENT_RATE_LIMIT: RateLimit = RateLimit::new(5_000, 2_500);
/// Default limit of `join` and `leave` requests per socket: 100 at once, 20 per second after.
pub const DEFAULT_ROOM_RATE_LIMIT: RateLimit = RateLimit::new(100, 20);
/// Default limit of `authenticate` requests per socket: 10 at once, 1 per second after.
pub const DEFAULT_AUTH_RATE_LIMIT: RateLimit = RateLimit::new(10, 1);
/// Default time a socket may keep sending over a limit before it is disconnected.
pub const DEFAULT_RATE_LIMIT_DISCONNECT_AFTER: Duration = Duration::from_secs(5);

/// A pause in dropped events this long ends a run of them.
pub(crate) const QUIET: Duration = Duration::from_secs(1);

/// A token is this many units: a bucket refills `per_second` units per
/// millisecond, exactly, whatever the rate.
const UNIT: u64 = 1_000;

/// Which bucket an incoming event takes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventClass {
    /// `authenticate`.
    Authenticate,
    /// `join` and `leave`.
    Rooms,
    /// Every other event (those handled with `on`, and any other name).
    Application,
}

impl EventClass {
    pub(crate) fn of(event: &str) -> Self {
        match event {
            events::AUTHENTICATE => EventClass::Authenticate,
            events::JOIN | events::LEAVE => EventClass::Rooms,
            _ => EventClass::Application,
        }
    }

    /// The option that limits this class.
    pub(crate) const fn option(self) -> &'static str {
        match self {
            EventClass::Authenticate => "auth_rate_limit",
            EventClass::Rooms => "room_rate_limit",
            EventClass::Application => "event_rate_limit",
        }
    }
}

impl fmt::Display for EventClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EventClass::Authenticate => "authenticate",
            EventClass::Rooms => "join/leave",
            EventClass::Application => "application events",
        })
    }
}

/// What to do with an incoming event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Within the limit: handle it.
    Admit,
    /// Over the limit: drop it.
    Drop,
    /// Over the limit for longer than allowed: drop it and disconnect the socket.
    Disconnect,
}

/// One bucket: units spent (0 is a full bucket) as of a clock reading.
#[derive(Debug, Default, Clone, Copy)]
struct Bucket {
    spent: u32,
    at: u32,
}

impl Bucket {
    /// Refills for the time since the last event, then takes a token if one is left.
    fn take(&mut self, limit: RateLimit, now: u32) -> bool {
        let refill =
            u64::from(now.wrapping_sub(self.at)).saturating_mul(u64::from(limit.per_second));
        let mut spent = u64::from(self.spent).saturating_sub(refill);
        self.at = now;
        let admitted = spent + UNIT <= u64::from(limit.burst) * UNIT;
        if admitted {
            spent += UNIT;
        }
        // At most `MAX_BURST * UNIT`, which fits (checked by `validate`; a
        // larger burst saturates, which only makes it larger still).
        self.spent = u32::try_from(spent).unwrap_or(u32::MAX);
        admitted
    }
}

/// The limits in effect, from the options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) authenticate: Option<RateLimit>,
    pub(crate) rooms: Option<RateLimit>,
    pub(crate) application: Option<RateLimit>,
    pub(crate) disconnect_after: Option<Duration>,
}

impl Limits {
    fn of(&self, class: EventClass) -> Option<RateLimit> {
        match class {
            EventClass::Authenticate => self.authenticate,
            EventClass::Rooms => self.rooms,
            EventClass::Application => self.application,
        }
    }
}

/// One socket's buckets and its current run of dropped events.
#[derive(Debug, Default)]
pub(crate) struct RateState {
    buckets: [Bucket; 3],
    /// When the current run of dropped events began (0: no run yet).
    run_since: u32,
    /// When the last event was dropped (0: never).
    last_drop: u32,
}

impl RateState {
    /// Takes a token for an event of `class` at clock reading `now` (never 0).
    pub(crate) fn check(&mut self, class: EventClass, limits: &Limits, now: u32) -> Verdict {
        let Some(limit) = limits.of(class) else {
            return Verdict::Admit;
        };
        if self.buckets[class as usize].take(limit, now) {
            return Verdict::Admit;
        }
        let quiet = millis(QUIET);
        if self.last_drop == 0 || now.wrapping_sub(self.last_drop) >= quiet {
            self.run_since = now;
        }
        self.last_drop = now;
        match limits.disconnect_after {
            Some(after) if now.wrapping_sub(self.run_since) >= millis(after) => Verdict::Disconnect,
            _ => Verdict::Drop,
        }
    }
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(application: RateLimit, disconnect_after: Option<Duration>) -> Limits {
        Limits {
            authenticate: Some(RateLimit::new(2, 1)),
            rooms: None,
            application: Some(application),
            disconnect_after,
        }
    }

    fn admitted(
        state: &mut RateState,
        limits: &Limits,
        class: EventClass,
        now: u32,
        n: u32,
    ) -> u32 {
        (0..n)
            .filter(|_| state.check(class, limits, now) == Verdict::Admit)
            .count() as u32
    }

    #[test]
    fn a_burst_then_the_refill_rate() {
        let limits = limits(RateLimit::new(100, 2_500), None);
        let mut state = RateState::default();
        let app = EventClass::Application;
        assert_eq!(admitted(&mut state, &limits, app, 1, 1_000), 100);
        // 2.5 tokens per millisecond: 2 after 1 ms, 3 after the next (the half carries over).
        assert_eq!(admitted(&mut state, &limits, app, 2, 10), 2);
        assert_eq!(admitted(&mut state, &limits, app, 3, 10), 3);
        // A long pause fills the bucket, never beyond the burst.
        assert_eq!(admitted(&mut state, &limits, app, 60_000, 1_000), 100);
    }

    #[test]
    fn slow_rates_refill_by_fractions() {
        let limits = limits(RateLimit::new(10, 3), None);
        let mut state = RateState::default();
        let app = EventClass::Application;
        assert_eq!(admitted(&mut state, &limits, app, 1, 50), 10);
        // A third of a second per token, in events a tenth of a second apart.
        let mut total = 0;
        for step in 1..=30 {
            total += admitted(&mut state, &limits, app, 1 + step * 100, 1);
        }
        assert_eq!(total, 9, "three seconds at 3/s");
    }

    #[test]
    fn classes_have_their_own_buckets_and_an_unset_limit_is_off() {
        let limits = limits(RateLimit::new(5, 1), None);
        let mut state = RateState::default();
        assert_eq!(
            admitted(&mut state, &limits, EventClass::Application, 1, 10),
            5
        );
        assert_eq!(
            admitted(&mut state, &limits, EventClass::Authenticate, 1, 10),
            2
        );
        assert_eq!(
            admitted(&mut state, &limits, EventClass::Rooms, 1, 10_000),
            10_000
        );
    }

    #[test]
    fn only_a_run_of_drops_without_pause_disconnects() {
        let limits = limits(RateLimit::new(1, 1), Some(Duration::from_secs(5)));
        let app = EventClass::Application;
        // An event every 100 ms, one a second admitted: the drops from
        // 110 ms on are one run, over the limit at 5 110 ms.
        let mut state = RateState::default();
        let mut verdicts = (0..=51).map(|i| state.check(app, &limits, 10 + i * 100));
        assert!(verdicts.by_ref().take(51).all(|v| v != Verdict::Disconnect));
        assert_eq!(verdicts.next(), Some(Verdict::Disconnect));
        // Bursts with pauses of a second or more: runs start over, never disconnected.
        let mut state = RateState::default();
        for burst in 0..20u32 {
            for _ in 0..3 {
                assert_ne!(
                    state.check(app, &limits, 10 + burst * 1_500),
                    Verdict::Disconnect
                );
            }
        }
        // Without the option, never.
        let limits = Limits {
            disconnect_after: None,
            ..limits
        };
        let mut state = RateState::default();
        assert!(
            (0..100u32).all(|i| state.check(app, &limits, 10 + i * 100) != Verdict::Disconnect)
        );
    }

    #[test]
    fn the_clock_may_wrap() {
        let limits = limits(RateLimit::new(2, 1_000), None);
        let mut state = RateState::default();
        let app = EventClass::Application;
        assert_eq!(admitted(&mut state, &limits, app, u32::MAX - 1, 5), 2);
        assert_eq!(
            admitted(&mut state, &limits, app, 3, 5),
            2,
            "5 ms later, refilled"
        );
    }

    #[test]
    fn classes_of_event_names() {
        assert_eq!(EventClass::of("authenticate"), EventClass::Authenticate);
        assert_eq!(EventClass::of("join"), EventClass::Rooms);
        assert_eq!(EventClass::of("leave"), EventClass::Rooms);
        assert_eq!(EventClass::of("echo"), EventClass::Application);
    }
}
