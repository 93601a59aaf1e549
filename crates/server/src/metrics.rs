//! Prometheus metrics: per-app registry (no globals, so tests can run many servers).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    /// `success`, `failure`, `mfa_required`, `rate_limited`.
    pub result: String,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteLabels, Counter>,
    pub latency: Family<LatencyLabels, Histogram>,
    pub auth_attempts: Family<AuthLabels, Counter>,
    pub rate_limited: Counter,
    /// argon2id runs (hashes and verifications).
    pub password_hashes: Counter,
    /// Highest audit event id: the number of events ever written.
    pub audit_events: Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("keyhold");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<LatencyLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
        });
        let auth_attempts = Family::<AuthLabels, Counter>::default();
        let rate_limited = Counter::default();
        let audit_events = Gauge::default();
        let password_hashes = Counter::default();
        registry.register("password_hashes", "argon2id runs", password_hashes.clone());
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "auth_attempts",
            "Sign-in attempts by result",
            auth_attempts.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests refused with 429",
            rate_limited.clone(),
        );
        registry.register("audit_events", "Audit events written", audit_events.clone());
        Self {
            registry,
            requests,
            latency,
            auth_attempts,
            rate_limited,
            password_hashes,
            audit_events,
        }
    }

    pub fn auth(&self, result: &str) {
        self.auth_attempts
            .get_or_create(&AuthLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
