//! Identifiers made from the injected clock: UUIDv7, whose first 48 bits are the time in
//! milliseconds (so rows sort by creation) and whose other 74 bits come from the OS's
//! CSPRNG. The time is a parameter, never read from the wall clock here, so tests that
//! freeze or move the clock get identifiers in their own timeline.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use uuid::timestamp::context::ContextV7;
use uuid::{Timestamp, Uuid};

/// One counter for the process, as `Uuid::now_v7` keeps: identifiers made in the same
/// millisecond (or under a clock a test froze, or one that stepped back) still sort in the
/// order they were made, so lists ordered by id keep creation order. So an id's time is
/// never earlier than one made before it: read times from the rows, not from ids.
static SEQUENCE: Mutex<ContextV7> = Mutex::new(ContextV7::new());

/// A new UUIDv7 for something created at `now`.
pub fn uuid_at(now: DateTime<Utc>) -> Uuid {
    let secs = u64::try_from(now.timestamp()).unwrap_or(0);
    Uuid::new_v7(Timestamp::from_unix(
        &SEQUENCE,
        secs,
        now.timestamp_subsec_nanos(),
    ))
}

/// [`uuid_at`] in its hyphenated text form, the form rows keep.
pub fn new_id(now: DateTime<Utc>) -> String {
    uuid_at(now).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_the_given_time_and_differ() {
        // Far ahead of any other test's clock: the sequence never goes back in time, so
        // in a process shared with other tests only a later time is taken as given.
        let at = DateTime::parse_from_rfc3339("2100-01-02T03:04:05.678Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap();
        let (a, b) = (uuid_at(at), uuid_at(at));
        assert!(a < b, "made later, sorts later");
        let (secs, nanos) = a.get_timestamp().unwrap().to_unix();
        assert_eq!(secs, 4_102_542_245);
        assert_eq!(nanos / 1_000_000, 678);
        assert_eq!(a.get_version_num(), 7);
    }
}
