//! Everything a request handler may use, built once at start-up: the vault (the domain)
//! and what only the HTTP front needs.

use std::ops::Deref;

use keyhold_vault::Vault;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimits;

pub struct AppState {
    pub config: Config,
    pub vault: std::sync::Arc<Vault>,
    /// Request counts and latency, and the registry `/metrics` renders.
    pub http_metrics: Metrics,
    /// Request rate limits per route class (see `http::rate_limit`).
    pub rate_limits: RateLimits,
}

pub type SharedState = std::sync::Arc<AppState>;

/// Handlers pass `&st` where the domain wants `&Vault`.
impl Deref for AppState {
    type Target = Vault;

    fn deref(&self) -> &Vault {
        &self.vault
    }
}
