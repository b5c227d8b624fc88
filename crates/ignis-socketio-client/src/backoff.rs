//! Reconnection settings and the exponential backoff with jitter.

use std::time::Duration;

/// When and how often to reconnect after the connection is lost.
///
/// The defaults are socket.io-client's: on, unlimited attempts, 1 s first
/// delay doubling up to 5 s, with ±50 % jitter.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectConfig {
    /// Reconnect at all.
    pub enabled: bool,
    /// Give up after this many failed attempts in a row (`None`: never).
    pub max_attempts: Option<u32>,
    /// Delay before the first attempt.
    pub delay: Duration,
    /// Upper bound of the delay.
    pub max_delay: Duration,
    /// Spread of the random jitter, from 0 (none) to 1.
    pub randomization: f64,
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        ReconnectConfig {
            enabled: true,
            max_attempts: None,
            delay: Duration::from_millis(1000),
            max_delay: Duration::from_millis(5000),
            randomization: 0.5,
        }
    }
}

impl ReconnectConfig {
    /// No reconnection.
    pub fn disabled() -> Self {
        ReconnectConfig {
            enabled: false,
            ..ReconnectConfig::default()
        }
    }

    /// The delay before attempt `attempt` (0-based), given a random number in `[0, 1)`.
    pub fn delay_for(&self, attempt: u32, random: f64) -> Duration {
        let base = self.delay.as_secs_f64() * 2f64.powi(attempt.min(62) as i32);
        let spread = self.randomization.clamp(0.0, 1.0);
        let random = random.clamp(0.0, 1.0);
        // Random in [-spread, +spread] of the base delay.
        let jittered = base * (1.0 + spread * (2.0 * random - 1.0));
        let capped = jittered.min(self.max_delay.as_secs_f64()).max(0.0);
        Duration::from_secs_f64(capped)
    }

    /// Whether attempt number `attempt` (0-based) may run.
    pub fn allows(&self, attempt: u32) -> bool {
        self.enabled && self.max_attempts.is_none_or(|max| attempt < max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_and_is_capped() {
        let c = ReconnectConfig {
            randomization: 0.0,
            ..ReconnectConfig::default()
        };
        assert_eq!(c.delay_for(0, 0.3), Duration::from_millis(1000));
        assert_eq!(c.delay_for(1, 0.3), Duration::from_millis(2000));
        assert_eq!(c.delay_for(2, 0.3), Duration::from_millis(4000));
        assert_eq!(c.delay_for(3, 0.3), Duration::from_millis(5000));
        assert_eq!(c.delay_for(1000, 0.3), Duration::from_millis(5000));
    }

    #[test]
    fn jitter_stays_within_the_spread() {
        let c = ReconnectConfig::default();
        assert_eq!(c.delay_for(0, 0.0), Duration::from_millis(500));
        assert_eq!(c.delay_for(0, 1.0), Duration::from_millis(1500));
        assert_eq!(c.delay_for(0, 0.5), Duration::from_millis(1000));
    }

    #[test]
    fn attempts_limit_and_disable() {
        let c = ReconnectConfig {
            max_attempts: Some(2),
            ..ReconnectConfig::default()
        };
        assert!(c.allows(0) && c.allows(1) && !c.allows(2));
        assert!(!ReconnectConfig::disabled().allows(0));
    }
}
