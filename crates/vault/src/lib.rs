//! keyhold-vault: the vault's domain and the store behind it.
//!
//! Accounts and sessions, two-factor authentication, agent keys and scoped tokens,
//! encrypted secrets, approvals, tenant rules and the hash-chained audit log, over a store
//! reached through traits (`store`, with `store::sqlite` beside it). Nothing here knows
//! HTTP: the crate does not depend on axum, tower or hyper, so the compiler keeps the
//! layering; `keyhold-server` maps requests to the caller types in [`auth`] and the
//! [`Error`] to responses.
//!
//! Domain functions take the [`Vault`] (what the domain uses: store, clock, keys, the
//! password hasher, the mailer, the sign-in throttles) and a caller from [`auth`].
//!
//! Imports go one way: no two top-level modules reach each other, directly or through
//! others, and the store imports nothing of the domain (the audit record it writes lives
//! in `store::event`). Sign-in (`login`) sits above `mfa`, and `accounts` above `login`;
//! the security score (`security`) reads approvals from above, so `mfa` need not. Scoped
//! tokens (`tokens`) sit above `agent_keys`. Account recovery (`recovery`) sits above
//! `accounts`, `login`, `mfa` and `members`. `tests/layering.rs` fails on any cycle and
//! names it.

pub mod accounts;
pub mod agent_keys;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod auth_failures;
pub mod clock;
pub mod crypto;
pub mod custody;
pub mod detect;
pub mod envelope;
pub mod error;
pub mod events;
pub mod feeds;
pub mod ids;
pub mod invitations;
pub mod kek_rotation;
pub mod key_admin;
pub mod keys;
pub mod live;
pub mod login;
pub mod mail;
pub mod members;
pub mod metrics;
pub mod mfa;
pub mod move_store;
pub mod notices;
pub mod notify;
pub mod paging;
pub mod passwords;
pub mod recovery;
pub mod secrets;
pub mod security;
pub mod sessions;
pub mod signed_in;
pub mod signed_requests;
pub mod signing_keys;
pub mod store;
pub mod tenant;
pub mod throttle;
pub mod tokens;

use std::sync::Arc;

pub use error::{Error, Result};

/// What the domain works with, built once at start-up by the server. No HTTP settings
/// here (listen address, TLS, request rate limits): those stay in the server's state.
pub struct Vault {
    pub store: Arc<dyn store::Store>,
    pub keys: keys::Keys,
    pub hasher: passwords::PasswordHasher,
    pub mailer: mail::Mailer,
    pub clock: Arc<dyn clock::Clock>,
    pub metrics: metrics::VaultMetrics,
    /// Failed sign-ins per account (lower-cased email).
    pub login_failures_by_account: throttle::FailureLimiter,
    /// Failed sign-ins per client address.
    pub login_failures_by_ip: throttle::FailureLimiter,
    /// Base of links in mail, without a trailing slash.
    pub public_url: String,
    /// Unwrapped tenant KEKs.
    pub keks: crypto::KekCache,
    /// Open live feeds per credential (see `live::MAX_FEEDS_PER_CREDENTIAL`).
    pub feeds: live::FeedSlots,
    /// How webhooks and mail leave the vault (`events`).
    pub courier: events::Courier,
    /// Detection and response: the rules' counters and the in-memory blocks (`detect`).
    pub detector: detect::Detector,
}

impl Vault {
    /// A failure limiter counting over one minute.
    pub fn new_limiter(per_minute: u32) -> throttle::FailureLimiter {
        throttle::FailureLimiter::new(per_minute, chrono::Duration::minutes(1))
    }
}
