//! Request rate limits per route class: GCRA buckets (the `governor` crate) keyed by client
//! address, account, agent credential or session.
//!
//! This is a layer on top of [`keyhold_vault::throttle`], which counts *failed* sign-ins with
//! the same mechanism (governor's GCRA on the vault's clock, [`ClockAdapter`]): these
//! limits count every request, so that a flood is turned away with a cheap 429 before it
//! reaches password hashing or the database.
//!
//! The buckets run on the server's [`Clock`], so tests move time with the `ManualClock`
//! instead of sleeping. Memory is bounded by a sweep ([`RateLimits::sweep`], every minute)
//! that drops every key whose bucket has refilled, i.e. every key not seen within the last
//! period; what is left is at most the distinct keys of the last minute.
//!
//! A credential is counted against a bucket of its own only once it has authenticated
//! ([`RateLimits::prove`]); until then its requests count against its address's anonymous
//! bucket. Why: a made-up `khs_`/`kha_`/`kht_` (its checksum is public) would otherwise get
//! a fresh bucket per request and escape every limit, or, by copying a real key's id,
//! drain that key's bucket. Buckets are keyed by the keyed hash of the whole credential,
//! which only its holder can produce.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use keyhold_vault::clock::Clock;
use keyhold_vault::throttle::ClockAdapter;

/// What a request is counted against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Requests without a usable credential, per client address.
    Anonymous,
    /// Sign-in attempts, per account (normalised email).
    Login,
    /// Second-factor attempts, per MFA ticket.
    Mfa,
    /// Requests with an agent key or scoped token, per credential.
    Agent,
    /// Requests with a session, per session.
    Session,
}

/// Requests per minute for each class; `0` turns a class off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerMinute {
    pub anonymous: u32,
    pub login: u32,
    pub agent: u32,
    pub session: u32,
}

type Keyed =
    RateLimiter<String, DashMapStateStore<String>, ClockAdapter, StateInformationMiddleware>;

struct Bucket {
    limiter: Keyed,
    per_minute: u32,
}

/// The outcome of one check, with what the `RateLimit-*` headers report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Requests allowed per window (the bucket's burst size).
    pub limit: u32,
    /// Requests left right now.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Set when the request is refused: seconds until one more is allowed.
    pub retry_after_secs: Option<u64>,
}

impl Verdict {
    pub fn denied(&self) -> bool {
        self.retry_after_secs.is_some()
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Bucket {
    fn new(per_minute: u32, clock: &ClockAdapter) -> Option<Self> {
        let n = NonZeroU32::new(per_minute)?;
        Some(Self {
            limiter: RateLimiter::dashmap_with_clock(Quota::per_minute(n), clock.clone())
                .with_middleware::<StateInformationMiddleware>(),
            per_minute,
        })
    }

    /// Time for one request's worth of capacity to come back.
    fn replenish(&self) -> Duration {
        Duration::from_secs(60) / self.per_minute
    }

    fn check(&self, key: &str, clock: &ClockAdapter) -> Verdict {
        match self.limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let used = self.per_minute.saturating_sub(remaining);
                Verdict {
                    limit: self.per_minute,
                    remaining,
                    reset_secs: ceil_secs(self.replenish() * used),
                    retry_after_secs: None,
                }
            }
            Err(not_until) => {
                let wait = ceil_secs(not_until.wait_time_from(clock.now())).max(1);
                Verdict {
                    limit: self.per_minute,
                    remaining: 0,
                    reset_secs: wait,
                    retry_after_secs: Some(wait),
                }
            }
        }
    }
}

/// How long a credential stays proven without being used. After that, its next request
/// counts against the anonymous bucket again until it has authenticated once more.
pub const PROVEN_FOR: chrono::Duration = chrono::Duration::minutes(10);

/// Upper bound on proven credentials remembered at once. Only real credentials get in,
/// but a key can issue many tokens; past this, new ones are not remembered (each of their
/// requests is then counted against the anonymous bucket and their own).
const MAX_PROVEN: usize = 100_000;

/// Credentials (by keyed hash) that authenticated within [`PROVEN_FOR`], with when they
/// were last seen (µs on the server's clock). Read-mostly: a lookup takes the read lock
/// and bumps an atomic; only proving, forgetting and the sweep write.
#[derive(Default)]
struct Proven {
    seen: RwLock<HashMap<String, AtomicI64>>,
}

/// Every class's buckets.
pub struct RateLimits {
    clock: ClockAdapter,
    anonymous: Option<Bucket>,
    login: Option<Bucket>,
    mfa: Option<Bucket>,
    agent: Option<Bucket>,
    session: Option<Bucket>,
    proven: Proven,
}

impl RateLimits {
    pub fn new(per_minute: PerMinute, clock: Arc<dyn Clock>) -> Self {
        let clock = ClockAdapter(clock);
        Self {
            anonymous: Bucket::new(per_minute.anonymous, &clock),
            login: Bucket::new(per_minute.login, &clock),
            mfa: Bucket::new(per_minute.login, &clock),
            agent: Bucket::new(per_minute.agent, &clock),
            session: Bucket::new(per_minute.session, &clock),
            proven: Proven::default(),
            clock,
        }
    }

    fn now_us(&self) -> i64 {
        self.clock.0.now().timestamp_micros()
    }

    /// Whether the credential with keyed hash `hash` has authenticated recently (and is
    /// so counted against its own bucket); marks it seen.
    pub fn is_proven(&self, hash: &str) -> bool {
        let seen = self.proven.seen.read().unwrap_or_else(|p| p.into_inner());
        match seen.get(hash) {
            Some(at) => {
                at.store(self.now_us(), Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// The credential with keyed hash `hash` has just authenticated: from now on its
    /// requests count against its own bucket. Call only after authentication.
    pub fn prove(&self, hash: &str) {
        let now = self.now_us();
        let mut seen = self.proven.seen.write().unwrap_or_else(|p| p.into_inner());
        if seen.len() < MAX_PROVEN || seen.contains_key(hash) {
            seen.insert(hash.to_owned(), AtomicI64::new(now));
        }
    }

    /// The credential no longer authenticates (revoked, expired, signed out).
    pub fn forget(&self, hash: &str) {
        let mut seen = self.proven.seen.write().unwrap_or_else(|p| p.into_inner());
        seen.remove(hash);
    }

    fn bucket(&self, class: Class) -> Option<&Bucket> {
        match class {
            Class::Anonymous => self.anonymous.as_ref(),
            Class::Login => self.login.as_ref(),
            Class::Mfa => self.mfa.as_ref(),
            Class::Agent => self.agent.as_ref(),
            Class::Session => self.session.as_ref(),
        }
    }

    /// Count one request against `key` in `class`; `None` when the class is off.
    pub fn check(&self, class: Class, key: &str) -> Option<Verdict> {
        self.bucket(class).map(|b| b.check(key, &self.clock))
    }

    /// Drop keys whose buckets are full again (not seen for a period) and credentials not
    /// seen within [`PROVEN_FOR`], and give the memory back. Returns how many keys are
    /// still tracked.
    pub fn sweep(&self) -> usize {
        let stale = self
            .now_us()
            .saturating_sub(PROVEN_FOR.num_microseconds().unwrap_or(i64::MAX));
        let proven = {
            let mut seen = self.proven.seen.write().unwrap_or_else(|p| p.into_inner());
            seen.retain(|_, at| at.load(Ordering::Relaxed) > stale);
            seen.shrink_to_fit();
            seen.len()
        };
        proven
            + [
                &self.anonymous,
                &self.login,
                &self.mfa,
                &self.agent,
                &self.session,
            ]
            .into_iter()
            .flatten()
            .map(|b| {
                b.limiter.retain_recent();
                b.limiter.shrink_to_fit();
                b.limiter.len()
            })
            .sum::<usize>()
    }
}

/// The key for a client address: IPv4 as is, IPv6 by its /64, since one host usually holds
/// a whole /64 and could otherwise pick a fresh address, and bucket, per request.
pub fn ip_key(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".to_owned(),
    }
}

/// The most telling of several verdicts: a refusal (the longest wait) over an allowance,
/// and among allowances the one with the least left.
pub fn strictest(verdicts: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
    verdicts
        .into_iter()
        .reduce(|a, b| match (a.denied(), b.denied()) {
            (true, false) => a,
            (false, true) => b,
            (true, true) => {
                if a.retry_after_secs >= b.retry_after_secs {
                    a
                } else {
                    b
                }
            }
            (false, false) => {
                if a.remaining <= b.remaining {
                    a
                } else {
                    b
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyhold_vault::clock::ManualClock;

    fn limits(clock: Arc<ManualClock>) -> RateLimits {
        RateLimits::new(
            PerMinute {
                anonymous: 3,
                login: 2,
                agent: 0,
                session: 60,
            },
            clock,
        )
    }

    #[test]
    fn counts_down_refuses_then_refills_with_the_clock() {
        let clock = Arc::new(ManualClock::new(
            chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        ));
        let l = limits(clock.clone());
        let v: Vec<_> = (0..3)
            .map(|_| l.check(Class::Anonymous, "1.2.3.4").unwrap())
            .collect();
        assert_eq!(
            v.iter().map(|v| v.remaining).collect::<Vec<_>>(),
            vec![2, 1, 0]
        );
        assert_eq!(v[2].reset_secs, 60, "three used, one back every 20 s");
        let refused = l.check(Class::Anonymous, "1.2.3.4").unwrap();
        assert_eq!(refused.retry_after_secs, Some(20));
        assert!(
            !l.check(Class::Anonymous, "5.6.7.8").unwrap().denied(),
            "other keys have their own bucket"
        );
        clock.advance(chrono::Duration::seconds(20));
        assert!(!l.check(Class::Anonymous, "1.2.3.4").unwrap().denied());
        assert!(l.check(Class::Agent, "k").is_none(), "0 turns a class off");
        // Login and MFA share the number but not the buckets.
        l.check(Class::Login, "a@example.com");
        l.check(Class::Login, "a@example.com");
        assert!(l.check(Class::Login, "a@example.com").unwrap().denied());
        assert!(!l.check(Class::Mfa, "a@example.com").unwrap().denied());
    }

    #[test]
    fn sweep_forgets_keys_once_their_bucket_is_full_again() {
        let clock = Arc::new(ManualClock::new(
            chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        ));
        let l = limits(clock.clone());
        for i in 0..100 {
            l.check(Class::Session, &format!("s{i}"));
        }
        assert_eq!(l.sweep(), 100);
        clock.advance(chrono::Duration::seconds(61));
        assert_eq!(l.sweep(), 0);
    }

    #[test]
    fn proven_credentials_are_remembered_while_used_and_forgotten_after() {
        let clock = Arc::new(ManualClock::new(
            chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        ));
        let l = limits(clock.clone());
        assert!(
            !l.is_proven("h1"),
            "nothing is proven before it authenticates"
        );
        l.prove("h1");
        l.prove("h2");
        assert!(l.is_proven("h1"));
        clock.advance(PROVEN_FOR - chrono::Duration::seconds(1));
        assert!(l.is_proven("h1"), "seen again: stays");
        clock.advance(chrono::Duration::seconds(2));
        assert_eq!(l.sweep(), 1, "h2 was not seen within PROVEN_FOR");
        assert!(l.is_proven("h1"));
        assert!(!l.is_proven("h2"));
        l.forget("h1");
        assert!(!l.is_proven("h1"));
    }

    #[test]
    fn ipv6_is_keyed_by_its_64_and_strictest_prefers_refusals() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(ip_key(Some(a)), ip_key(Some(b)));
        assert_eq!(ip_key(Some("10.0.0.1".parse().unwrap())), "10.0.0.1");
        let ok = Verdict {
            limit: 5,
            remaining: 4,
            reset_secs: 1,
            retry_after_secs: None,
        };
        let low = Verdict { remaining: 1, ..ok };
        let no = Verdict {
            remaining: 0,
            retry_after_secs: Some(7),
            ..ok
        };
        assert_eq!(strictest([ok, low]), Some(low));
        assert_eq!(strictest([ok, no, low]), Some(no));
        assert_eq!(strictest([]), None);
    }
}
