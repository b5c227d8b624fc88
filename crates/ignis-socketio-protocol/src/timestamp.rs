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
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    };
    let (days, millis_of_day) = (
        millis.div_euclid(MILLIS_PER_DAY),
        millis.rem_euclid(MILLIS_PER_DAY),
    );
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        // Outside what four year digits can show: the epoch rather than a wrong date.
        return EPOCH.to_owned();
    }
    // Written digit by digit: this runs for every `ping`, `authenticated` and
    // demo echo, and `format!` cost about ten times as much.
    let mut out = *b"0000-00-00T00:00:00.000Z";
    put_digits(&mut out[0..4], year as u64);
    put_digits(&mut out[5..7], u64::from(month));
    put_digits(&mut out[8..10], u64::from(day));
    let millis_of_day = millis_of_day as u64;
    put_digits(&mut out[11..13], millis_of_day / 3_600_000);
    put_digits(&mut out[14..16], millis_of_day / 60_000 % 60);
    put_digits(&mut out[17..19], millis_of_day / 1_000 % 60);
    put_digits(&mut out[20..23], millis_of_day % 1_000);
    out.iter().map(|b| char::from(*b)).collect()
}

const MILLIS_PER_DAY: i64 = 86_400_000;
const EPOCH: &str = "1970-01-01T00:00:00.000Z";

/// Writes `value` as zero-padded decimal digits filling `out`.
fn put_digits(out: &mut [u8], mut value: u64) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Proleptic Gregorian (year, month, day) of a day count from 1970-01-01
/// (the public-domain `civil_from_days` algorithm of Howard Hinnant).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u8;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u8;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
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

    /// The `time` crate as the oracle, over dates from year 0 to 9999,
    /// leap days and the last millisecond of a day included.
    #[test]
    fn agrees_with_the_time_crate_across_the_range() {
        let oracle = |millis: i64| {
            let dt =
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
                    .map(|dt| {
                        format!(
                            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                            dt.year(),
                            u8::from(dt.month()),
                            dt.day(),
                            dt.hour(),
                            dt.minute(),
                            dt.second(),
                            dt.millisecond()
                        )
                    });
            dt.unwrap_or_default()
        };
        let at = |millis: i64| {
            let offset = Duration::from_millis(millis.unsigned_abs());
            if millis >= 0 {
                UNIX_EPOCH + offset
            } else {
                UNIX_EPOCH - offset
            }
        };
        let first = -62_167_219_200_000_i64; // 0000-01-01T00:00:00.000Z
        let last = 253_402_300_799_999_i64; // 9999-12-31T23:59:59.999Z
        let mut millis = first;
        let step = 7_777_777_777; // about 90 days and an odd remainder
        while millis <= last {
            assert_eq!(format_timestamp(at(millis)), oracle(millis), "{millis}");
            millis += step;
        }
        for edge in [
            first,
            last,
            -1,
            0,
            951_782_400_000,
            951_868_799_999,
            4_107_542_400_000,
        ] {
            assert_eq!(format_timestamp(at(edge)), oracle(edge), "{edge}");
        }
        assert_eq!(format_timestamp(at(first - 1)), EPOCH);
        assert_eq!(format_timestamp(at(last + 1)), EPOCH);
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
