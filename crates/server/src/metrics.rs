//! Prometheus metrics: per-app registry (no globals, so tests can run many servers). The
//! server counts requests and their latency; the vault's own counters
//! (`keyhold_vault::metrics`) are registered in the same registry.

use keyhold_vault::metrics::VaultMetrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// A standard method or `OTHER` (see `http::method_label`).
    pub method: &'static str,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    pub route: String,
}

/// TLS handshakes by `result`: `success` or `failure`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TlsLabels {
    pub result: &'static str,
}

pub type TlsHandshakes = Family<TlsLabels, Counter>;

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteLabels, Counter>,
    pub latency: Family<LatencyLabels, Histogram>,
    pub tls_handshakes: TlsHandshakes,
}

impl Metrics {
    /// The server's families and `vault`'s counters, in one registry.
    pub fn new(vault: &VaultMetrics) -> Self {
        let mut registry = Registry::with_prefix("keyhold");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<LatencyLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
        });
        vault.register(&mut registry);
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
        let tls_handshakes = TlsHandshakes::default();
        for result in ["success", "failure"] {
            tls_handshakes
                .get_or_create(&TlsLabels { result })
                .inc_by(0);
        }
        registry.register(
            "tls_handshakes",
            "TLS handshakes by result",
            tls_handshakes.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            tls_handshakes,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
