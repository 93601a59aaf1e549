//! Counting failures (wrong passwords, wrong codes) per key in a sliding window.
//!
//! Kept in memory: one node, and a restart forgiving recent failures is acceptable. When
//! the store moves to PostgreSQL for several replicas, these counters move with it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Upper bound on tracked keys, so a flood of distinct emails cannot grow memory forever.
const MAX_KEYS: usize = 100_000;

pub struct FailureLimiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl FailureLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` once `max` failures fall inside the window.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), u64> {
        let Ok(mut map) = self.failures.lock() else {
            return Ok(());
        };
        let Some(q) = map.get_mut(key) else {
            return Ok(());
        };
        while q.front().is_some_and(|t| *t + self.window <= now) {
            q.pop_front();
        }
        if q.len() >= self.max as usize {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = (oldest + self.window - now).num_seconds().max(1);
            return Err(u64::try_from(wait).unwrap_or(1));
        }
        Ok(())
    }

    pub fn record(&self, key: &str, now: DateTime<Utc>) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= MAX_KEYS {
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| *t + window > now));
        }
        let q = map.entry(key.to_owned()).or_default();
        q.push_back(now);
        while q.len() > self.max as usize + 1 {
            q.pop_front();
        }
    }

    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_and_forgets_after_window() {
        let l = FailureLimiter::new(3, Duration::minutes(1));
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        for i in 0..3 {
            assert!(l.check("a", t0).is_ok(), "attempt {i}");
            l.record("a", t0);
        }
        assert_eq!(l.check("a", t0), Err(60));
        assert!(l.check("b", t0).is_ok(), "other keys unaffected");
        assert_eq!(l.check("a", t0 + Duration::seconds(45)), Err(15));
        assert!(l.check("a", t0 + Duration::seconds(60)).is_ok());
        l.record("a", t0);
        l.clear("a");
        assert!(l.check("a", t0).is_ok());
    }
}
