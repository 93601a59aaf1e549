//! Session lifetime rules, in one place so that sign-in (`login`), the session check
//! (`auth`) and the sudo window agree on them.

use chrono::{DateTime, Duration, Utc};

use crate::store::SessionRecord;

/// A session unused this long ends.
pub const IDLE: Duration = Duration::hours(12);
/// A session ends this long after sign-in, however active.
pub const ABSOLUTE: Duration = Duration::days(7);
/// `last_seen_at` is written at most this often, not on every request.
pub const TOUCH_EVERY: Duration = Duration::minutes(1);
/// Sensitive actions need a sign-in or re-authentication this recent.
pub const SUDO_WINDOW: Duration = Duration::minutes(10);

pub fn is_live(s: &SessionRecord, now: DateTime<Utc>) -> bool {
    now < s.expires_at && now < s.last_seen_at + IDLE
}

pub fn needs_touch(s: &SessionRecord, now: DateTime<Utc>) -> bool {
    now >= s.last_seen_at + TOUCH_EVERY
}

pub fn in_sudo_window(s: &SessionRecord, now: DateTime<Utc>) -> bool {
    now < s.authenticated_at + SUDO_WINDOW
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(at: DateTime<Utc>) -> SessionRecord {
        SessionRecord {
            id: "s".into(),
            tenant_id: "t".into(),
            user_id: "u".into(),
            created_at: at,
            last_seen_at: at,
            expires_at: at + ABSOLUTE,
            authenticated_at: at,
        }
    }

    #[test]
    fn idle_and_absolute_limits() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut s = session(t0);
        assert!(is_live(&s, t0 + IDLE - Duration::seconds(1)));
        assert!(!is_live(&s, t0 + IDLE));
        s.last_seen_at = t0 + ABSOLUTE - Duration::hours(1);
        assert!(is_live(&s, t0 + ABSOLUTE - Duration::seconds(1)));
        assert!(!is_live(&s, t0 + ABSOLUTE));
    }

    #[test]
    fn touch_and_sudo() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let s = session(t0);
        assert!(!needs_touch(&s, t0 + Duration::seconds(59)));
        assert!(needs_touch(&s, t0 + Duration::seconds(60)));
        assert!(in_sudo_window(&s, t0 + Duration::minutes(9)));
        assert!(!in_sudo_window(&s, t0 + Duration::minutes(10)));
    }
}
