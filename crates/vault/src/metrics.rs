//! What the domain counts, for the server to serve at `/metrics`: sign-in results, refused
//! agent credentials, 429s, argon2 runs, audit events, and the store's commit timings
//! (which the store defines itself, in `store::metrics`, and this registers). The
//! counters are registered in the server's registry (no globals, so tests can run many
//! servers in one process).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::auth_failures::Reason;
use crate::store::metrics::StoreMetrics;

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

/// Outbox delivery attempts: `kind` webhook or mail, `result` delivered or failed (a
/// fixed set of four series).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutboxLabels {
    pub kind: &'static str,
    pub result: &'static str,
}

/// Alerts raised: `rule` is one of `detect::rules::Rule`, a fixed set.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    pub rule: &'static str,
}

/// Authentication attempts of people and agents: `credential` is `password`, `totp`,
/// `agent_key` or `token`; `result` one of the fixed sets documented in
/// docs/operations.md. Nothing of the credential itself.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CredentialLabels {
    pub credential: &'static str,
    pub result: &'static str,
}

/// The results a person's sign-in attempt is counted under.
const PERSON_RESULTS: [&str; 6] = [
    "success",
    "failure",
    "mfa_required",
    "mfa_failure",
    "rate_limited",
    "blocked",
];

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
    /// Delivery attempts of the outbox (`events::worker`).
    pub outbox_attempts: Family<OutboxLabels, Counter>,
    /// Alerts raised by rule (`detect`).
    pub alerts: Family<RuleLabels, Counter>,
    /// Agent keys suspended by a rule.
    pub suspensions: Counter,
    /// Addresses blocked by a rule.
    pub blocks: Counter,
    /// Authentication attempts by credential kind and result.
    pub credential_attempts: Family<CredentialLabels, Counter>,
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
        for rule in crate::detect::rules::Rule::ALL {
            m.alerts
                .get_or_create(&RuleLabels {
                    rule: rule.as_str(),
                })
                .inc_by(0);
        }
        for result in PERSON_RESULTS {
            let credential = if result == "mfa_failure" {
                "totp"
            } else {
                "password"
            };
            m.credential_attempts
                .get_or_create(&CredentialLabels { credential, result })
                .inc_by(0);
        }
        for credential in ["agent_key", "token"] {
            for result in ["success", "blocked"]
                .into_iter()
                .chain(Reason::ALL.iter().map(|r| r.as_str()))
            {
                m.credential_attempts
                    .get_or_create(&CredentialLabels { credential, result })
                    .inc_by(0);
            }
        }
        for kind in ["webhook", "mail"] {
            for result in ["delivered", "failed"] {
                m.outbox_attempts
                    .get_or_create(&OutboxLabels { kind, result })
                    .inc_by(0);
            }
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
        registry.register(
            "outbox_delivery_attempts",
            "Delivery attempts of webhooks and mail by result",
            self.outbox_attempts.clone(),
        );
        registry.register(
            "alerts_raised",
            "Alerts raised by detection rule",
            self.alerts.clone(),
        );
        registry.register(
            "key_suspensions",
            "Agent keys suspended by a detection rule",
            self.suspensions.clone(),
        );
        registry.register(
            "address_blocks",
            "Addresses blocked by a detection rule",
            self.blocks.clone(),
        );
        registry.register(
            "auth_attempts_by_credential",
            "Authentication attempts of people and agents by credential kind and result",
            self.credential_attempts.clone(),
        );
        self.store.register(registry);
    }

    pub fn alert_raised(&self, rule: &'static str) {
        self.alerts.get_or_create(&RuleLabels { rule }).inc();
    }

    /// One authentication attempt of an agent credential (`agent_key` or `token`).
    pub fn agent_attempt(&self, credential: &'static str, result: &'static str) {
        self.credential_attempts
            .get_or_create(&CredentialLabels { credential, result })
            .inc();
    }

    /// One delivery attempt of a `kind` message (`webhook` or `mail`).
    pub fn outbox_attempt(&self, kind: &'static str, delivered: bool) {
        let result = if delivered { "delivered" } else { "failed" };
        self.outbox_attempts
            .get_or_create(&OutboxLabels { kind, result })
            .inc();
    }

    pub fn auth(&self, result: &str) {
        self.auth_attempts
            .get_or_create(&AuthLabels {
                result: result.to_owned(),
            })
            .inc();
        if let Some(&result) = PERSON_RESULTS.iter().find(|r| **r == result) {
            let credential = if result == "mfa_failure" {
                "totp"
            } else {
                "password"
            };
            self.credential_attempts
                .get_or_create(&CredentialLabels { credential, result })
                .inc();
        }
    }

    pub fn agent_auth_failure(&self, reason: Reason) {
        self.agent_auth_failures
            .get_or_create(&AgentAuthLabels {
                reason: reason.as_str(),
            })
            .inc();
    }
}
