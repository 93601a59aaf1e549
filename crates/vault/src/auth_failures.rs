//! Refused uses of agent credentials (`kha_` keys, `kht_` tokens): audited and counted.
//!
//! Why: a burst of refusals is an attack in progress, or a leaked key being tried after
//! its revocation. Owners read the refusals of their own keys and tokens in their tenant's
//! log (`auth.agent`, with the reason, the key id and the address); operators read the
//! count by reason in `/metrics` (`keyhold_agent_auth_failures_total{reason}`).
//!
//! Bounded, so that made-up credentials cannot grow anything at will:
//! - The metric's labels are the fixed [`Reason`] set, created at start-up; nothing of the
//!   credential itself becomes a label.
//! - A credential that matches no record has no tenant: its refusal goes to the system
//!   (tenant-less) chain, with nothing of the credential but the key id a well-formed
//!   `kha_` carries (never its secret part). Such a credential never authenticated, so its
//!   request was counted against its address's anonymous rate limit (see
//!   `http::rate_limit`): the system chain grows by at most `--rate-limit-anonymous`
//!   events a minute per address (per /64 for IPv6).
//! - Nothing is logged per refusal; only a failure to write the audit event is.

use std::net::IpAddr;

use keyhold_core::credential::CredentialKind;

use crate::Vault;
use crate::audit::{ActorKind, ClientInfo, NewEvent, Outcome};
use crate::store::{KeyRecord, TokenRecord};

/// Why an agent credential was refused: the only values of the metric's `reason` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Not even a well-formed credential of its kind (bad shape or checksum).
    Malformed,
    /// Well-formed, but no key or token has it.
    Unknown,
    Revoked,
    Expired,
    /// Used from an address outside the key's or token's IP allowlist.
    Address,
    /// Authenticated, but its scopes do not allow the request.
    Scope,
    /// A signed request (Ed25519 key) whose signature verifies with no public key of the
    /// key it names.
    Signature,
    /// A signed request whose `created` is outside the ±60 s window (or past `expires`).
    Stale,
    /// A signed request whose body does not match its `Content-Digest` (or is not covered).
    Digest,
    /// A signed request whose nonce was already accepted.
    Replayed,
    /// A signed request made with a public key its key has retired.
    Retired,
    /// The key (or the key behind a token) is suspended by a detection rule.
    Suspended,
}

impl Reason {
    pub const ALL: [Reason; 12] = [
        Self::Malformed,
        Self::Unknown,
        Self::Revoked,
        Self::Expired,
        Self::Address,
        Self::Scope,
        Self::Signature,
        Self::Stale,
        Self::Digest,
        Self::Replayed,
        Self::Retired,
        Self::Suspended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Unknown => "unknown",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::Address => "address",
            Self::Scope => "scope",
            Self::Signature => "signature",
            Self::Stale => "stale",
            Self::Digest => "digest",
            Self::Replayed => "replayed",
            Self::Retired => "retired",
            Self::Suspended => "suspended",
        }
    }
}

/// Whose credential was refused, as far as the server knows.
pub enum Claimed<'a> {
    /// No record matches: the kind, and the key id a well-formed `kha_` carries.
    Nobody {
        kind: CredentialKind,
        key_id: Option<String>,
    },
    /// A signed request that proved no key: the key id its `keyid` names, when it is one.
    Signed {
        key_id: Option<String>,
    },
    Key(&'a KeyRecord),
    Token(&'a TokenRecord),
}

fn event(
    reason: Reason,
    who: &Claimed<'_>,
    ip: Option<IpAddr>,
    at: chrono::DateTime<chrono::Utc>,
) -> NewEvent {
    let client = ClientInfo {
        ip: ip.map(|ip| ip.to_string()),
        user_agent: None,
    };
    let outcome = if reason == Reason::Address {
        Outcome::Denied
    } else {
        Outcome::Failure
    };
    let ev = NewEvent::new("auth.agent", at, &client)
        .outcome(outcome)
        .detail("reason", reason.as_str());
    match who {
        Claimed::Nobody { kind, key_id } => {
            let credential = match kind {
                CredentialKind::ScopedToken => "token",
                _ => "agent_key",
            };
            let ev = ev.detail("credential", credential);
            match key_id {
                Some(id) => ev.detail("key_id", id.clone()),
                None => ev,
            }
        }
        Claimed::Signed { key_id } => {
            let ev = ev.detail("credential", "signature");
            match key_id {
                Some(id) => ev.detail("key_id", id.clone()),
                None => ev,
            }
        }
        Claimed::Key(k) => ev
            .tenant(&k.tenant_id)
            .actor(ActorKind::AgentKey, &k.id)
            .target(format!("key:{}", k.id))
            .detail("credential", "agent_key")
            .detail("key_id", k.id.clone()),
        Claimed::Token(t) => ev
            .tenant(&t.tenant_id)
            .actor(ActorKind::Token, &t.id)
            .target(format!("token:{}", t.id))
            .detail("credential", "token")
            .detail("key_id", t.key_id.clone()),
    }
}

/// Audit and count one refused use of an agent credential from `ip`. The refusal stands
/// whether or not its event could be written, so a store failure is logged, not returned.
pub async fn record(st: &Vault, reason: Reason, who: Claimed<'_>, ip: Option<IpAddr>) {
    st.metrics.agent_auth_failure(reason);
    let credential = match &who {
        Claimed::Nobody {
            kind: CredentialKind::ScopedToken,
            ..
        }
        | Claimed::Token(_) => "token",
        _ => "agent_key",
    };
    st.metrics.agent_attempt(credential, reason.as_str());
    let ev = event(reason, &who, ip, st.clock.now());
    if let Err(e) = st.store.append_event(ev).await {
        tracing::warn!(error = %e, reason = reason.as_str(), "recording a refused agent credential failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_credentials_go_to_the_system_chain_with_only_the_claimed_id() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let ev = event(
            Reason::Unknown,
            &Claimed::Nobody {
                kind: CredentialKind::AgentKey,
                key_id: Some("0190-id".to_owned()),
            },
            Some("203.0.113.9".parse().unwrap()),
            at,
        );
        assert_eq!(ev.tenant_id, None);
        assert_eq!(ev.action, "auth.agent");
        assert_eq!(ev.outcome, Outcome::Failure);
        assert_eq!(ev.ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(
            ev.detail,
            serde_json::json!({"reason": "unknown", "credential": "agent_key", "key_id": "0190-id"})
        );
        let labels: std::collections::HashSet<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels.len(), Reason::ALL.len());
    }
}
