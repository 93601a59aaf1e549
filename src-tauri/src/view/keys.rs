//! The Keys page's detail view, edit and rotation types.

use serde::{Deserialize, Serialize};
use specta::Type;

use super::AgentKeyView;

/// One key with its use (`GET /v1/keys/{id}`), read from the audit log.
#[derive(Clone, Debug, Serialize, Type)]
pub struct KeyDetailsView {
    pub key: AgentKeyView,
    pub requests_24h: u32,
    pub requests_7d: u32,
    /// Of the last 7 days' requests, those refused.
    pub refused_7d: u32,
    /// The last 30 days' addresses, most recently seen first.
    pub recent_ips: Vec<KeyAddressView>,
}

#[derive(Clone, Debug, Serialize, Type)]
pub struct KeyAddressView {
    pub ip: String,
    pub last_seen_at: String,
    /// Requests from it in the last 30 days.
    pub requests: u32,
}

/// The edit dialog's values: both fields, as they should be afterwards.
#[derive(Clone, Debug, Deserialize, Type)]
pub struct KeyChanges {
    /// RFC 3339, or none for "never expires".
    pub expires_at: Option<String>,
    /// Empty: usable from any address.
    pub ip_allowlist: Vec<String>,
}

/// Shown once: the rotated key's new secret is in this value and nowhere else.
#[derive(Clone, Serialize, Type)]
pub struct RotatedAgentKey {
    pub key: AgentKeyView,
    pub secret: String,
    /// When the old key stops working (now, when revoked at once).
    pub old_key_expires_at: String,
}

impl std::fmt::Debug for RotatedAgentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RotatedAgentKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_secret_stays_out_of_debug() {
        let r = RotatedAgentKey {
            key: AgentKeyView {
                id: "k".into(),
                name: "n".into(),
                prefix: "kha_1234".into(),
                scopes: vec![],
                created_at: String::new(),
                expires_at: None,
                last_used_at: None,
                last_used_ip: None,
                revoked_at: None,
                suspended_at: None,
                ip_allowlist: vec![],
            },
            secret: "kha_topsecretvalue".into(),
            old_key_expires_at: String::new(),
        };
        let d = format!("{r:?}");
        assert!(!d.contains("topsecret") && d.contains("redacted"), "{d}");
    }
}
