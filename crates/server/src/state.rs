//! Everything a request handler may use, built once at start-up.

use std::sync::Arc;

use chrono::Duration;

use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::KekCache;
use crate::keys::Keys;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::passwords::PasswordHasher;
use crate::rate_limit::RateLimits;
use crate::store::Store;
use crate::throttle::FailureLimiter;

pub struct AppState {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub keys: Keys,
    pub hasher: PasswordHasher,
    pub mailer: Mailer,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    /// Failed sign-ins per account (lower-cased email).
    pub login_failures_by_account: FailureLimiter,
    /// Failed sign-ins per client address.
    pub login_failures_by_ip: FailureLimiter,
    /// Request rate limits per route class (see `http::rate_limit`).
    pub rate_limits: RateLimits,
    /// Base of links in mail, without a trailing slash.
    pub public_url: String,
    /// Unwrapped tenant KEKs.
    pub keks: KekCache,
    /// Open live feeds per credential (see `live::MAX_FEEDS_PER_CREDENTIAL`).
    pub feeds: crate::live::FeedSlots,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new_limiter(per_minute: u32) -> FailureLimiter {
        FailureLimiter::new(per_minute, Duration::minutes(1))
    }
}
