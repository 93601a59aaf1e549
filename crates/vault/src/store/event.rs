//! Audit events as the store writes them, and the hash chain it computes over them.
//!
//! Each tenant's events form a chain: an event's hash covers its own fields and the hash
//! of the tenant's previous event, so editing, removing or reordering a row is detected
//! by `verify`. Events with no tenant (a failed login for an unknown email) form their own
//! chain. Details never carry a secret: callers put identifiers and reasons there only.
//!
//! Here, in the store, because every write that needs an event takes it and commits both
//! in one transaction: the store depends on nothing of the domain, and the domain builds
//! these through `crate::audit`.

use chrono::{DateTime, Utc};
pub use keyhold_core::api::Severity;
use sha2::{Digest, Sha256};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    User,
    AgentKey,
    Token,
    Anonymous,
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::AgentKey => "agent_key",
            Self::Token => "token",
            Self::Anonymous => "anonymous",
            Self::System => "system",
        }
    }
}

/// Where a request came from, for the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An event about to be appended. `id`, `prev_hash` and `hash` are assigned by the store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub tenant_id: Option<String>,
    pub at: DateTime<Utc>,
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    pub action: &'static str,
    pub target: Option<String>,
    pub outcome: Outcome,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: serde_json::Value,
    /// Messages to send once this event commits, written in its transaction
    /// (`store::outbox`).
    pub outbound: Vec<crate::store::outbox::Outbound>,
    /// Set by the domain where the default classification ([`default_severity`]) does not
    /// say it (an alert's own severity).
    pub severity: Option<Severity>,
}

impl NewEvent {
    pub fn new(action: &'static str, at: DateTime<Utc>, client: &ClientInfo) -> Self {
        Self {
            tenant_id: None,
            at,
            actor_kind: ActorKind::Anonymous,
            actor_id: None,
            action,
            target: None,
            outcome: Outcome::Success,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            detail: serde_json::Value::Object(serde_json::Map::new()),
            outbound: Vec::new(),
            severity: None,
        }
    }

    /// The event's severity: the domain's choice, else [`default_severity`].
    pub fn severity(&self) -> Severity {
        self.severity
            .unwrap_or_else(|| default_severity(self.action, self.outcome, &self.detail))
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    pub fn tenant(mut self, tenant_id: &str) -> Self {
        self.tenant_id = Some(tenant_id.to_owned());
        self
    }

    pub fn actor(mut self, kind: ActorKind, id: &str) -> Self {
        self.actor_kind = kind;
        self.actor_id = Some(id.to_owned());
        self
    }

    pub fn user(self, tenant_id: &str, user_id: &str) -> Self {
        self.tenant(tenant_id).actor(ActorKind::User, user_id)
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        if let serde_json::Value::Object(m) = &mut self.detail {
            m.insert(key.to_owned(), value.into());
        }
        self
    }

    /// Send `message` once this event commits (and only if it does).
    pub fn with_outbound(mut self, message: crate::store::outbox::Outbound) -> Self {
        self.outbound.push(message);
        self
    }

    pub fn at_micros(&self) -> i64 {
        self.at.timestamp_micros()
    }

    /// The fields the chain hash covers, with the detail serialized once by the caller
    /// (it stores the same text it hashes).
    pub fn chain_fields<'a>(&'a self, detail: &'a str) -> ChainFields<'a> {
        ChainFields {
            tenant_id: self.tenant_id.as_deref(),
            at_us: self.at_micros(),
            actor_kind: self.actor_kind.as_str(),
            actor_id: self.actor_id.as_deref(),
            action: self.action,
            target: self.target.as_deref(),
            outcome: self.outcome.as_str(),
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
            detail,
        }
    }
}

/// The severity of an event nobody classified explicitly (docs/audit.md#severity): a pure
/// function of fields the chain hash covers, so the stored severity (not hashed itself)
/// can be checked by classifying again.
///
/// - critical: a key suspended by a detection rule;
/// - warning: any refused or failed attempt; an address blocked; 2FA turned off or reset;
///   a password reset; a leaked key reported; a key reinstated; a block lifted;
/// - info: everything else.
pub fn default_severity(action: &str, outcome: Outcome, detail: &serde_json::Value) -> Severity {
    if action == "key.suspended" {
        return Severity::Critical;
    }
    if outcome != Outcome::Success {
        return Severity::Warning;
    }
    let leaked = detail.get("method").and_then(|m| m.as_str()) == Some("leaked");
    match action {
        "address.blocked" | "mfa.disabled" | "mfa.reset" | "password.reset" | "key.reinstated"
        | "block.lifted" => Severity::Warning,
        "key.revoked" | "token.revoked" if leaked => Severity::Warning,
        _ => Severity::Info,
    }
}

/// The fields a chain hash covers, in a fixed order.
pub struct ChainFields<'a> {
    pub tenant_id: Option<&'a str>,
    pub at_us: i64,
    pub actor_kind: &'a str,
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub outcome: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub detail: &'a str,
}

/// SHA-256 over the previous hash and the event's fields, as a JSON array so that field
/// boundaries are unambiguous. The array is serialized straight from the fields (no
/// intermediate `serde_json::Value`): this runs once per audited request, on the writer.
pub fn chain_hash(prev_hash: &str, f: &ChainFields<'_>) -> String {
    // Strings, numbers and nulls written to memory: serde_json has no error to give here,
    // so the fallback is never taken (the unit test pins the bytes either way).
    let canonical = serde_json::to_vec(&(
        f.tenant_id,
        f.at_us,
        f.actor_kind,
        f.actor_id,
        f.action,
        f.target,
        f.outcome,
        f.ip,
        f.user_agent,
        f.detail,
    ))
    .unwrap_or_default();
    let digest = Sha256::new()
        .chain_update(prev_hash.as_bytes())
        .chain_update(b"\n")
        .chain_update(&canonical)
        .finalize();
    hex::encode(digest)
}

/// An event as stored, with every field its hash covers: what a chain check reads back.
pub struct StoredEvent {
    pub id: i64,
    pub tenant_id: Option<String>,
    pub at_us: i64,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Checks a chain fed oldest first: each event must name the previous one's hash and hash
/// to its own. One implementation for every backend, so "verifies" means the same.
pub struct ChainCheck {
    expected_prev: String,
    checked: u64,
    first_bad: Option<i64>,
}

impl Default for ChainCheck {
    fn default() -> Self {
        Self {
            expected_prev: GENESIS_HASH.to_owned(),
            checked: 0,
            first_bad: None,
        }
    }
}

impl ChainCheck {
    /// Check the next event; `false` once the chain is broken (feed no more).
    pub fn push(&mut self, e: &StoredEvent) -> bool {
        if self.first_bad.is_some() {
            return false;
        }
        let recomputed = chain_hash(
            &e.prev_hash,
            &ChainFields {
                tenant_id: e.tenant_id.as_deref(),
                at_us: e.at_us,
                actor_kind: &e.actor_kind,
                actor_id: e.actor_id.as_deref(),
                action: &e.action,
                target: e.target.as_deref(),
                outcome: &e.outcome,
                ip: e.ip.as_deref(),
                user_agent: e.user_agent.as_deref(),
                detail: &e.detail,
            },
        );
        self.checked += 1;
        if e.prev_hash != self.expected_prev || recomputed != e.hash {
            self.first_bad = Some(e.id);
            return false;
        }
        self.expected_prev.clone_from(&e.hash);
        true
    }

    pub fn result(self) -> super::AuditVerify {
        super::AuditVerify {
            ok: self.first_bad.is_none(),
            checked: self.checked,
            first_bad: self.first_bad,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(action: &str) -> ChainFields<'_> {
        ChainFields {
            tenant_id: Some("t"),
            at_us: 1,
            actor_kind: "user",
            actor_id: Some("u"),
            action,
            target: None,
            outcome: "success",
            ip: None,
            user_agent: None,
            detail: "{}",
        }
    }

    /// The hash of every event ever written must not change: stored chains are verified
    /// against it. The reference is the form the chain was first defined with.
    #[test]
    fn hash_matches_the_chain_definition() {
        fn reference(prev: &str, f: &ChainFields<'_>) -> String {
            let canonical = serde_json::json!([
                f.tenant_id,
                f.at_us,
                f.actor_kind,
                f.actor_id,
                f.action,
                f.target,
                f.outcome,
                f.ip,
                f.user_agent,
                f.detail
            ]);
            let digest = Sha256::new()
                .chain_update(prev.as_bytes())
                .chain_update(b"\n")
                .chain_update(canonical.to_string().as_bytes())
                .finalize();
            hex::encode(digest)
        }
        let odd = "quote \" backslash \\ tab \t nl \n nul \u{0} bell \u{7} é 🔑 \u{2028}";
        let cases = [
            fields("auth.login"),
            ChainFields {
                tenant_id: None,
                at_us: -1,
                actor_kind: "anonymous",
                actor_id: None,
                action: "auth.login",
                target: Some(odd),
                outcome: "failure",
                ip: Some("::1"),
                user_agent: Some(odd),
                detail: r#"{"reason":"bad \"password\"","n":[1,2.5,null]}"#,
            },
            ChainFields {
                tenant_id: Some(odd),
                at_us: i64::MAX,
                actor_kind: "token",
                actor_id: Some(""),
                action: "secret.read",
                target: Some("secret:production/gemini/API_KEY"),
                outcome: "success",
                ip: Some("203.0.113.9"),
                user_agent: None,
                detail: "",
            },
        ];
        for f in &cases {
            assert_eq!(chain_hash(GENESIS_HASH, f), reference(GENESIS_HASH, f));
        }
        // And one fixed value (computed with Python's json and hashlib), so that a change
        // to both forms is caught too.
        assert_eq!(
            chain_hash(GENESIS_HASH, &fields("auth.login")),
            "5927aac9cb8bb27705b23530a0b30fba1228ada14e5b785fe2aa677d5d7a3db1"
        );
    }

    #[test]
    fn hash_depends_on_previous_and_fields() {
        let a = chain_hash(GENESIS_HASH, &fields("auth.login"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, chain_hash(GENESIS_HASH, &fields("auth.logout")));
        assert_ne!(a, chain_hash(&a, &fields("auth.login")));
        assert_eq!(a, chain_hash(GENESIS_HASH, &fields("auth.login")));
    }
}
