//! Durations in requests: `"30s"`, `"15m"`, `"1h"`, `"8h"`, `"7d"` (API.md conventions).
//!
//! One number and one unit, nothing else: no fractions, no combinations, no signs, so the
//! text has exactly one meaning and a bound is checked on whole seconds.

use chrono::Duration;

/// The longest duration the grammar accepts at all (ten years); callers apply their own,
/// much smaller, caps on top.
pub const MAX_SECONDS: i64 = 10 * 366 * 24 * 3600;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("a duration is a whole number and a unit, like \"30s\", \"15m\", \"1h\" or \"7d\"")]
    Malformed,
    #[error("a duration must be greater than zero")]
    Zero,
    #[error("the duration is too long")]
    TooLong,
}

/// Parse `"<n><s|m|h|d>"`.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let unit = text.chars().last().ok_or(DurationError::Malformed)?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DurationError::Malformed);
    }
    let n: i64 = digits.parse().map_err(|_| DurationError::Malformed)?;
    let per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(DurationError::Malformed),
    };
    let secs = n.checked_mul(per).ok_or(DurationError::TooLong)?;
    if secs == 0 {
        return Err(DurationError::Zero);
    }
    if secs > MAX_SECONDS {
        return Err(DurationError::TooLong);
    }
    Ok(Duration::seconds(secs))
}

/// The shortest text for a duration of whole seconds (`3600` → `"1h"`).
pub fn format(d: Duration) -> String {
    let s = d.num_seconds();
    match s {
        s if s != 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s != 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s != 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse("30s"), Ok(Duration::seconds(30)));
        assert_eq!(parse("15m"), Ok(Duration::minutes(15)));
        assert_eq!(parse("1h"), Ok(Duration::hours(1)));
        assert_eq!(parse("24h"), Ok(Duration::hours(24)));
        assert_eq!(parse("7d"), Ok(Duration::days(7)));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "", "h", "1", "1H", "-1h", "+1h", "1.5h", "1h30m", " 1h", "1h ", "1w", "１h", "0x1h",
        ] {
            assert_eq!(parse(bad), Err(DurationError::Malformed), "{bad:?}");
        }
        assert_eq!(parse("0m"), Err(DurationError::Zero));
        assert_eq!(parse("999999999999d"), Err(DurationError::TooLong));
    }

    #[test]
    fn format_round_trips() {
        for t in ["30s", "15m", "1h", "8h", "2d", "90s"] {
            assert_eq!(format(parse(t).unwrap()), t);
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,16}") {
            let _ = parse(&s);
        }
    }
}
