//! ISO-8601 UTC timestamps with milliseconds, as JavaScript's `Date.toISOString()` writes them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Formats `at` as `2026-11-25T08:00:00.000Z`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_millis(1_795_593_600_123);
/// assert_eq!(ignis_socketio_protocol::format_timestamp(t), "2026-11-25T08:00:00.123Z");
/// ```
pub fn format_timestamp(at: SystemTime) -> String {
    let millis = match at.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i128,
        Err(before) => -(before.duration().as_millis() as i128),
    };
    let nanos = millis * 1_000_000;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(dt) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        ),
        // Out of the representable range: clamp to the epoch rather than fail.
        Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

/// The current time as an ISO-8601 UTC timestamp with milliseconds.
pub fn now_timestamp() -> String {
    format_timestamp(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_epoch_and_pads_fields() {
        assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_000_000_000_007);
        assert_eq!(format_timestamp(t), "2001-09-09T01:46:40.007Z");
    }

    #[test]
    fn now_has_the_javascript_shape() {
        let s = now_timestamp();
        assert_eq!(s.len(), 24, "{s}");
        assert!(s.ends_with('Z'));
        assert_eq!(&s[10..11], "T");
        assert_eq!(&s[19..20], ".");
    }
}
