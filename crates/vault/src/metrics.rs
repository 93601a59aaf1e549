//! What the domain counts, for the server to serve at `/metrics`: sign-in results, refused
//! agent credentials, 429s, argon2 runs, audit events and the store's commit timings. The
//! counters are registered in the server's registry (no globals, so tests can run many
//! servers in one process).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::auth_failures::Reason;

/// Refused agent credentials: `reason` is one of `auth_failures::Reason`, a fixed set.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AgentAuthLabels {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    /// `success`, `failure`, `mfa_required`, `rate_limited`.
    pub result: String,
}

/// What the store's writer and checkpointer report. Cheap to clone (shared counters); the
/// store gets its own copy so that its threads need nothing else from the app.
#[derive(Clone, Debug)]
pub struct StoreMetrics {
    /// From the start of a write transaction to its durable commit (or failure).
    pub commit_seconds: Histogram,
    /// Jobs (requests' writes) that shared one commit.
    pub batch_jobs: Histogram,
    /// WAL checkpoints by mode (`passive`, `restart`).
    pub checkpoint_seconds: Family<CheckpointLabels, Histogram>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckpointLabels {
    pub mode: &'static str,
}

/// Fine at the low end: commits and checkpoints take from tens of microseconds (page
/// cache) to the disk's flush time, and a stall is what these are for.
fn store_seconds() -> Histogram {
    Histogram::new([
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ])
}

impl StoreMetrics {
    pub fn new() -> Self {
        Self {
            commit_seconds: store_seconds(),
            batch_jobs: Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
            checkpoint_seconds: Family::new_with_constructor(store_seconds),
        }
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "store_commit_duration_seconds",
            "Write transactions, from begin to durable commit",
            self.commit_seconds.clone(),
        );
        registry.register(
            "store_commit_batch_jobs",
            "Writes that shared one commit (group commit)",
            self.batch_jobs.clone(),
        );
        registry.register(
            "store_checkpoint_duration_seconds",
            "WAL checkpoints by mode",
            self.checkpoint_seconds.clone(),
        );
    }
}

impl Default for StoreMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The domain's counters; cheap to clone (shared).
#[derive(Clone, Debug, Default)]
pub struct VaultMetrics {
    pub auth_attempts: Family<AuthLabels, Counter>,
    /// Refused uses of agent keys and tokens, by reason (see `auth_failures`).
    pub agent_auth_failures: Family<AgentAuthLabels, Counter>,
    pub rate_limited: Counter,
    /// argon2id runs (hashes and verifications).
    pub password_hashes: Counter,
    /// Highest audit event id: the number of events ever written.
    pub audit_events: Gauge,
    pub store: StoreMetrics,
}

impl VaultMetrics {
    pub fn new() -> Self {
        let m = Self::default();
        // Every reason at 0 from the start: the series set is fixed, and alerts see a rise
        // from 0 rather than a series appearing.
        for reason in Reason::ALL {
            m.agent_auth_failures
                .get_or_create(&AgentAuthLabels {
                    reason: reason.as_str(),
                })
                .inc_by(0);
        }
        m
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "agent_auth_failures",
            "Refused uses of agent keys and tokens by reason",
            self.agent_auth_failures.clone(),
        );
        registry.register(
            "password_hashes",
            "argon2id runs",
            self.password_hashes.clone(),
        );
        registry.register(
            "auth_attempts",
            "Sign-in attempts by result",
            self.auth_attempts.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests refused with 429",
            self.rate_limited.clone(),
        );
        registry.register(
            "audit_events",
            "Audit events written",
            self.audit_events.clone(),
        );
        self.store.register(registry);
    }

    pub fn auth(&self, result: &str) {
        self.auth_attempts
            .get_or_create(&AuthLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    pub fn agent_auth_failure(&self, reason: Reason) {
        self.agent_auth_failures
            .get_or_create(&AgentAuthLabels {
                reason: reason.as_str(),
            })
            .inc();
    }
}
