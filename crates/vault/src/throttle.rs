//! Counting failures (wrong passwords, wrong codes) per key, with `governor`'s GCRA on the
//! vault's injected clock: the same mechanism as the server's request rate limits
//! (`keyhold_server::rate_limit`), which take [`ClockAdapter`] from here.
//!
//! Each failure takes one cell from the key's bucket of `max` cells, and one cell comes
//! back per `window`. So `max` failures in a row lock the key for one `window`, after
//! which one more try is allowed per `window` until the bucket has refilled (a sliding
//! window would have given all `max` back at once; this is stricter against guessing).
//!
//! governor keeps no per-key reset and no look without spending, both of which sign-in
//! needs (a success forgets the failures; a locked key is refused before the password is
//! even hashed). So the GCRA state lives in a map of our own ([`Cells`]), behind two
//! governor limiters: one that records, one that only looks (its store never writes).
//!
//! On SQLite (one server per database) the state is kept in memory: a restart forgiving
//! recent failures is acceptable. On PostgreSQL, where several replicas serve one vault,
//! it is kept in the database instead ([`FailureLimiter::shared`], `store::FailureStore`):
//! the same GCRA arithmetic on one state per key, updated atomically, so failures spread
//! over the replicas lock an account at the same count as on one. Keys are stored as
//! keyed hashes (no email or address in clear in that table).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use governor::clock::{Clock as GovernorClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::{Quota, RateLimiter};

use crate::clock::Clock;
use crate::keys::Keys;
use crate::store::FailureStore;

/// Upper bound on tracked keys, so a flood of distinct emails cannot grow memory forever.
const MAX_KEYS: usize = 100_000;

/// The vault's clock as a governor clock: nanoseconds since the Unix epoch.
#[derive(Clone)]
pub struct ClockAdapter(pub Arc<dyn Clock>);

impl GovernorClock for ClockAdapter {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        nanos(self.0.now())
    }
}

fn nanos(t: DateTime<Utc>) -> Nanos {
    Nanos::from(u64::try_from(t.timestamp_nanos_opt().unwrap_or_default()).unwrap_or_default())
}

/// The `now` the domain passed to the call in progress. Both limiters are built while it
/// reads 0 (the Unix epoch), so governor's offsets are nanoseconds since the epoch and
/// mean the same to both; calls take turns ([`FailureLimiter::turn`]) to set it.
#[derive(Clone, Default)]
struct At(Arc<AtomicU64>);

impl GovernorClock for At {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.0.load(Ordering::Relaxed))
    }
}

/// Each key's GCRA state (its theoretical arrival time), shared by the two limiters.
#[derive(Clone, Default)]
struct Cells(Arc<Mutex<HashMap<String, Nanos>>>);

/// Writes: a failure that fits takes its cell.
struct Record(Cells);

/// Looks: runs the same decision and keeps nothing.
struct Look(Cells);

impl StateStore for Record {
    type Key = String;

    fn measure_and_replace<T, F, E>(&self, key: &String, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let Ok(mut map) = self.0.0.lock() else {
            return f(None).map(|(t, _)| t);
        };
        let (t, next) = f(map.get(key).copied())?;
        map.insert(key.clone(), next);
        Ok(t)
    }
}

impl StateStore for Look {
    type Key = String;

    fn measure_and_replace<T, F, E>(&self, key: &String, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let prev = self.0.0.lock().ok().and_then(|m| m.get(key).copied());
        f(prev).map(|(t, _)| t)
    }
}

type Limiter<S> = RateLimiter<String, S, At, NoOpMiddleware<Nanos>>;

pub struct FailureLimiter {
    /// Counting in the database instead of `cells` (PostgreSQL).
    shared: Option<Shared>,
    cells: Cells,
    at: At,
    record: Limiter<Record>,
    look: Limiter<Look>,
    /// One call at a time sets `at` and asks a limiter.
    turn: Mutex<()>,
}

impl FailureLimiter {
    /// `max` failures, then one more per `window`. A `max` of 0 counts as 1.
    pub fn new(max: u32, window: Duration) -> Self {
        let period = window
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(60));
        let burst = NonZeroU32::new(max).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        let cells = Cells::default();
        let at = At::default();
        Self {
            shared: None,
            record: RateLimiter::new(quota, Record(cells.clone()), at.clone()),
            look: RateLimiter::new(quota, Look(cells.clone()), at.clone()),
            cells,
            at,
            turn: Mutex::new(()),
        }
    }

    /// Counting in `store`, shared by every replica: `max` failures, then one more per
    /// `window`, as [`Self::new`]. `label` tells this limiter's keys from another's
    /// (accounts, addresses).
    pub fn shared(
        store: Arc<dyn FailureStore>,
        keys: Keys,
        label: &'static str,
        max: u32,
        window: Duration,
    ) -> Self {
        let mut l = Self::new(max, window);
        l.shared = Some(Shared {
            store,
            keys,
            label,
            interval: window,
            limit: window * i32::try_from(max.max(1)).unwrap_or(i32::MAX),
        });
        l
    }

    /// `Err(seconds to wait)` while the key has no failure left to spend. A shared count
    /// that cannot be read lets the attempt through: the sign-in it guards needs the same
    /// database and fails without it.
    pub async fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), u64> {
        match &self.shared {
            Some(sh) => sh.check(key, now).await,
            None => self.check_local(key, now),
        }
    }

    /// Spend one of the key's failures (a no-op once none is left: the lock holds).
    pub async fn record(&self, key: &str, now: DateTime<Utc>) {
        match &self.shared {
            Some(sh) => sh.record(key, now).await,
            None => self.record_local(key, now),
        }
    }

    /// Forget the key's failures (after a success).
    pub async fn clear(&self, key: &str) {
        match &self.shared {
            Some(sh) => sh.clear(key).await,
            None => self.clear_local(key),
        }
    }

    fn check_local(&self, key: &str, now: DateTime<Utc>) -> Result<(), u64> {
        let Ok(_turn) = self.turn.lock() else {
            return Ok(());
        };
        let at = nanos(now);
        self.at.0.store(at.into(), Ordering::Relaxed);
        self.look
            .check_key(&key.to_owned())
            .map_err(|not_until: governor::NotUntil<Nanos>| {
                let d = std::time::Duration::from(not_until.earliest_possible().duration_since(at));
                (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
            })
    }

    fn record_local(&self, key: &str, now: DateTime<Utc>) {
        let Ok(_turn) = self.turn.lock() else {
            return;
        };
        let at = nanos(now);
        self.bound(at);
        self.at.0.store(at.into(), Ordering::Relaxed);
        let _ = self.record.check_key(&key.to_owned());
    }

    fn clear_local(&self, key: &str) {
        if let Ok(mut map) = self.cells.0.lock() {
            map.remove(key);
        }
    }

    /// At the cap, drop every key whose bucket has refilled (its state is in the past).
    fn bound(&self, now: Nanos) {
        if let Ok(mut map) = self.cells.0.lock()
            && map.len() >= MAX_KEYS
        {
            map.retain(|_, tat| *tat > now);
        }
    }
}

/// The shared mode's database, and the GCRA parameters: one failure back per `interval`,
/// at most `limit` (= max × interval) of failures ahead of now.
struct Shared {
    store: Arc<dyn FailureStore>,
    keys: Keys,
    label: &'static str,
    interval: Duration,
    limit: Duration,
}

impl Shared {
    fn key(&self, key: &str) -> String {
        self.keys
            .credential_hash(&format!("failures:{}:{key}", self.label))
    }

    async fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), u64> {
        let tat = match self.store.failure_tat(&self.key(key)).await {
            Ok(tat) => tat,
            Err(e) => {
                tracing::warn!(error = %e, "failure count unreadable");
                return Ok(());
            }
        };
        // The next failure would move the state to max(tat, now) + interval; it is allowed
        // while that is at most `limit` ahead of now.
        let next = tat.map_or(now, |t| t.max(now)) + self.interval;
        let over = next - now - self.limit;
        if over <= Duration::zero() {
            return Ok(());
        }
        let secs = over.num_seconds() + i64::from(over.subsec_nanos() > 0);
        Err(u64::try_from(secs.max(1)).unwrap_or(1))
    }

    async fn record(&self, key: &str, now: DateTime<Utc>) {
        let key = self.key(key);
        if let Err(e) = self
            .store
            .record_failure(&key, now, self.interval, self.limit)
            .await
        {
            tracing::warn!(error = %e, "failure not counted");
        }
    }

    async fn clear(&self, key: &str) {
        if let Err(e) = self.store.clear_failures(&self.key(key)).await {
            tracing::warn!(error = %e, "failure count not cleared");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blocks_after_max_and_forgets_after_window() {
        let l = FailureLimiter::new(3, Duration::minutes(1));
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        for i in 0..3 {
            assert!(l.check("a", t0).await.is_ok(), "attempt {i}");
            l.record("a", t0).await;
        }
        assert_eq!(l.check("a", t0).await, Err(60));
        assert!(l.check("b", t0).await.is_ok(), "other keys unaffected");
        assert_eq!(l.check("a", t0 + Duration::seconds(45)).await, Err(15));
        assert!(l.check("a", t0 + Duration::seconds(60)).await.is_ok());
        l.record("a", t0).await;
        l.clear("a").await;
        assert!(l.check("a", t0).await.is_ok());
    }

    #[tokio::test]
    async fn looking_spends_nothing_and_a_locked_key_earns_one_try_per_window() {
        let l = FailureLimiter::new(2, Duration::minutes(1));
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        for _ in 0..10 {
            assert!(l.check("a", t0).await.is_ok(), "looks are free");
        }
        l.record("a", t0).await;
        l.record("a", t0).await;
        assert!(l.check("a", t0).await.is_err());
        let t1 = t0 + Duration::seconds(60);
        assert!(l.check("a", t1).await.is_ok());
        l.record("a", t1).await;
        assert_eq!(
            l.check("a", t1).await,
            Err(60),
            "one try, then a window's wait"
        );
    }
}
