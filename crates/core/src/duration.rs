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
    // No leading zeros: one text per duration, so the OpenAPI pattern ([`pattern`]) can
    // say exactly which texts are accepted.
    if digits.is_empty()
        || digits.len() > 12
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
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

/// The units, longest first, with their length in seconds.
const UNITS: [(char, i64); 4] = [('d', 86_400), ('h', 3600), ('m', 60), ('s', 1)];

/// The regular expression (ECMA 262 and Rust `regex` alike) matching exactly the texts
/// [`parse`] accepts whose duration lies in `min_secs..=max_secs` (`min_secs` at least 1).
/// Generated from the bounds the validation uses, so the OpenAPI document cannot drift
/// from them.
pub fn pattern(min_secs: i64, max_secs: i64) -> String {
    let max_secs = max_secs.min(MAX_SECONDS);
    let min_secs = min_secs.max(1);
    let alternatives: Vec<String> = UNITS
        .iter()
        .filter_map(|&(unit, per)| {
            let lo = (min_secs + per - 1) / per;
            let hi = max_secs / per;
            (lo <= hi).then(|| format!("(?:{}){unit}", number_range(lo, hi)))
        })
        .collect();
    format!("^(?:{})$", alternatives.join("|"))
}

/// A regular expression for the decimal numbers `lo..=hi` (1 <= lo <= hi), without
/// leading zeros: split into ranges that share a prefix and end in full `[0-9]` runs.
fn number_range(lo: i64, hi: i64) -> String {
    let mut parts = Vec::new();
    let mut start = lo;
    while start <= hi {
        // The widest block size 10^k that `start` is aligned on and that fits, then as many
        // such blocks as fit before the next multiple of 10^(k+1) (one character class).
        let mut size = 1i64;
        while start % (size * 10) == 0 && start + size * 10 - 1 <= hi {
            size *= 10;
        }
        let next = (start / (size * 10) + 1) * size * 10;
        let count = ((next - start) / size).min((hi - start + 1) / size);
        let end = start + count * size - 1;
        parts.push(block(start, end));
        start = end + 1;
    }
    parts.join("|")
}

/// `start..=end` where the two differ only in their last digits, `start` ending in zeros
/// and `end` in nines over the same places.
fn block(start: i64, end: i64) -> String {
    let (a, b) = (start.to_string(), end.to_string());
    let mut out = String::new();
    for (x, y) in a.chars().zip(b.chars()) {
        if x == y {
            out.push(x);
        } else {
            out.push_str(&format!("[{x}-{y}]"));
        }
    }
    out
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

    #[test]
    fn refuses_leading_zeros() {
        for bad in ["01h", "00m", "0030s"] {
            assert_eq!(parse(bad), Err(DurationError::Malformed), "{bad:?}");
        }
    }

    /// The pattern accepts exactly what `parse` accepts within the bounds.
    fn agrees(min: i64, max: i64, text: &str) {
        let re = regex::Regex::new(&pattern(min, max)).unwrap();
        let in_range = parse(text).is_ok_and(|d| (min..=max).contains(&d.num_seconds()));
        assert_eq!(
            re.is_match(text),
            in_range,
            "{text:?} in {min}..={max}: {}",
            pattern(min, max)
        );
    }

    #[test]
    fn pattern_matches_the_bounds() {
        for (min, max) in [
            (1, MAX_SECONDS),
            (60, 30 * 86_400),
            (300, 7 * 86_400),
            (1, 86_400),
        ] {
            for t in [
                "1s",
                "59s",
                "60s",
                "1m",
                "5m",
                "4m",
                "299s",
                "300s",
                "1h",
                "24h",
                "25h",
                "1d",
                "7d",
                "8d",
                "30d",
                "31d",
                "86400s",
                "86401s",
                "1440m",
                "1441m",
                "0s",
                "01h",
                "1.5h",
                "",
                "h",
                "3660d",
                "3661d",
                "999999999999s",
            ] {
                agrees(min, max, t);
            }
        }
    }

    proptest! {
        #[test]
        fn pattern_agrees_with_parse(n in 0i64..2_000_000, unit in "[smhdx]", min in 1i64..100_000, span in 0i64..10_000_000) {
            agrees(min, min + span, &format!("{n}{unit}"));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,16}") {
            let _ = parse(&s);
        }
    }
}
