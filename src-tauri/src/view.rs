//! What the web view sees: the commands' argument and result types, exported to
//! TypeScript. They follow API.md but are the app's own, so that no session token, MFA
//! ticket or password ever has a field here. The only credentials that cross are the
//! show-once values a person must see (a new agent key, backup codes, the TOTP manual key).

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::error::CommandError;
use crate::keystore::KeyringBackend;

pub mod alerts;
pub mod keys;
pub mod members;
pub mod secrets;
pub mod settings;

/// Static facts about the app.
#[derive(Clone, Debug, Serialize, Type)]
pub struct AppInfo {
    pub version: String,
    pub default_server_url: String,
    /// A short auto-lock time in seconds offered as an extra choice, for the end-to-end
    /// tests: read from `KEYHOLD_DEBUG_LOCK_SECS` in debug builds only, always `None` in a
    /// release build (a release never shortens the lock behind the person's back).
    pub debug_lock_secs: Option<u32>,
}

/// The verdict on a typed server address.
#[derive(Clone, Debug, Serialize, Type)]
pub struct ServerUrlCheck {
    pub ok: bool,
    /// The normalised address when ok.
    pub normalized: Option<String>,
    /// Why it was refused, as a sentence.
    pub problem: Option<String>,
    /// True for a plain-http address on this computer.
    pub loopback: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
}

/// A signed-in session, as the UI may know it (the token stays in Rust).
#[derive(Clone, Debug, Serialize, Type)]
pub struct SessionView {
    pub server_url: String,
    pub user: UserView,
    pub tenant_name: Option<String>,
    pub role: Option<String>,
    pub expires_at: Option<String>,
}

/// Where the app stands at start-up and after every sign-in or sign-out.
#[derive(Clone, Debug, Serialize, Type)]
pub struct AppStatus {
    pub server_url: String,
    pub last_email: Option<String>,
    pub keyring: KeyringBackend,
    pub session: Option<SessionView>,
    /// Set when a saved session could not be restored (server down, session expired).
    pub restore_problem: Option<CommandError>,
    /// Set while the app is locked after idle time (survives a reload of the web view).
    pub lock: Option<LockView>,
}

/// The lock screen's facts: what unlocks it. The server's sudo check takes a TOTP code when
/// 2FA is on, else the password; `None` when that could not be read (ask for either).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Type)]
pub struct LockView {
    pub totp_enabled: Option<bool>,
}

/// One of the person's signed-in sessions (Settings → Sessions). The server keeps no token,
/// only the id; `current` marks this app's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Type)]
pub struct SessionItem {
    pub id: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub current: bool,
}

#[derive(Clone, Debug, Serialize, Type)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum SignInOutcome {
    SignedIn {
        session: SessionView,
    },
    /// The account has 2FA: ask for a code and call `sign_in_mfa`. The ticket stays in Rust.
    MfaRequired {
        email: String,
    },
}

/// The live password meter: zxcvbn's estimate and the policy's verdict.
#[derive(Clone, Debug, Serialize, Type)]
pub struct PasswordStrength {
    /// 0..=4
    pub score: u8,
    pub crack_time: String,
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
    /// Why the policy would refuse it, as sentences; empty when acceptable.
    pub problems: Vec<String>,
    pub acceptable: bool,
    pub length: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum SecurityStatus {
    Protected,
    AtRisk,
    Exposed,
}

#[derive(Clone, Debug, Serialize, Type)]
pub struct FactorView {
    /// "email_verified" | "mfa" | "password_strength"
    pub id: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize, Type)]
pub struct RecommendationView {
    pub id: String,
    /// "info" | "warning" | "critical"
    pub severity: String,
    pub message: String,
    /// Where the fix lives: "keys", "approvals", "mfa", "email", "password", or a key id.
    pub target: Option<String>,
}

/// `GET /v1/me/security`.
#[derive(Clone, Debug, Serialize, Type)]
pub struct SecurityOverview {
    pub score: u8,
    pub status: SecurityStatus,
    pub factors: Vec<FactorView>,
    pub recommendations: Vec<RecommendationView>,
    pub email: String,
    pub email_verified: bool,
}

#[derive(Clone, Debug, Serialize, Type)]
pub struct MfaStatus {
    pub totp_enabled: bool,
    pub backup_codes_remaining: u32,
    pub enrolled_at: Option<String>,
}

/// The start of TOTP enrollment: a QR code rendered in Rust and the manual key.
#[derive(Clone, Serialize, Type)]
pub struct TotpEnrollment {
    /// `data:image/svg+xml;base64,…` for an `<img>`.
    pub qr_data_url: String,
    /// The base32 secret in groups of four, for typing into an authenticator.
    pub manual_key: String,
    pub issuer: String,
    pub account: String,
}

/// Shown once.
#[derive(Clone, Serialize, Type)]
pub struct BackupCodes {
    pub codes: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Type)]
pub struct AgentKeyView {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<String>,
    /// Set while a detection rule holds the key suspended (docs/alerts.md): its owner or
    /// an admin reinstates or revokes it.
    pub suspended_at: Option<String>,
    pub ip_allowlist: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Type)]
pub struct NewAgentKey {
    pub name: String,
    pub scopes: Vec<String>,
    /// "1h", "30d"… or none for no expiry.
    pub expires_in: Option<String>,
    pub ip_allowlist: Vec<String>,
}

/// Shown once: the key's secret is in this value and nowhere else.
#[derive(Clone, Serialize, Type)]
pub struct CreatedAgentKey {
    pub key: AgentKeyView,
    pub secret: String,
}

#[derive(Clone, Debug, Serialize, Type)]
pub struct ScopeCheck {
    pub ok: bool,
    pub problem: Option<String>,
    /// A plain-language reading of the scope ("read everything below production/").
    pub summary: Option<String>,
}

#[derive(Clone, Debug, Serialize, Type)]
pub struct ApprovalVote {
    pub user: String,
    pub user_id: String,
    pub at: String,
    /// What the approver wrote with their yes, shown to the next approver.
    pub comment: Option<String>,
}

#[derive(Clone, Debug, Serialize, Type)]
pub struct ApprovalView {
    pub id: String,
    pub path: String,
    /// "standard" | "sensitive" | "critical"
    pub tier: String,
    /// The agent key that asked; `None` when a person asked for themselves.
    pub key_id: Option<String>,
    pub key_name: Option<String>,
    /// The person behind the request: the agent key's owner, or the person who asked.
    pub owner: String,
    /// Their user id: nobody approves their own (or their own agent's) request.
    pub owner_id: String,
    /// What the grant allows: "read" | "delete" | "lower_tier" | "agent_write".
    pub operation: String,
    /// For "lower_tier": the tier asked for, when the server says.
    pub to_tier: Option<String>,
    /// People who could still approve it; fewer than `required_approvals` means the team
    /// is too small for it ever to be granted. `None` from a server that does not say.
    pub eligible_approvers: Option<u32>,
    pub reason: Option<String>,
    pub requested_at: String,
    pub expires_at: String,
    pub approvals: Vec<ApprovalVote>,
    pub required_approvals: u32,
    /// Seconds between the deciding vote and the grant opening (critical delay).
    pub delay_secs: u32,
    /// Seconds the grant stays usable once open: what a yes gives, shown before voting.
    pub grant_ttl_secs: u32,
    /// "pending" | "approved" | "denied" | "expired" | "used"
    pub status: String,
    /// When approved: the grant is usable from this time (after the critical delay).
    pub available_at: Option<String>,
}

/// One message of the live approvals feed (`GET /v1/approvals/stream`), sent to the
/// web view over a channel.
#[derive(Clone, Debug, Serialize, Type)]
pub struct ApprovalFeedEvent {
    /// "connected" (the feed is live: reload the list), "requested", "approved",
    /// "denied", "expired", "used", or "disconnected" (retrying); "open" when the person
    /// clicked this request's notification (show it).
    pub kind: String,
    pub approval: Option<ApprovalView>,
}

#[derive(Clone, Debug, Default, Deserialize, Type)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

#[derive(Clone, Debug, Serialize, Type)]
pub struct AuditEventView {
    pub id: String,
    pub at: String,
    pub actor_type: String,
    pub actor_id: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    /// For the event's detail view: the client that made the call...
    pub user_agent: Option<String>,
    /// ...the event's details as JSON text...
    pub detail: String,
    /// ...and its severity ("info" | "warning" | "critical").
    pub severity: String,
}

/// How far an export has come: sent on a channel while the body streams in, so a long
/// log shows progress rather than a frozen button.
#[derive(Clone, Debug, Serialize, Type)]
pub struct ExportProgress {
    /// Events received so far (lines of JSON, or CSV rows after the header).
    pub events: u32,
    /// Bytes received so far.
    pub bytes: u32,
}

/// The result of checking the tenant's hash chain, as the audit screen says it.
#[derive(Clone, Debug, Serialize, Type)]
pub struct AuditChainView {
    pub ok: bool,
    /// Events checked.
    pub checked: u32,
    /// The first event whose hash does not follow, when the chain is broken.
    pub first_bad: Option<String>,
}

#[derive(Clone, Debug, Serialize, Type)]
pub struct AuditPage {
    pub items: Vec<AuditEventView>,
    pub next_cursor: Option<String>,
}

/// A file the app wrote on the person's behalf.
#[derive(Clone, Debug, Serialize, Type)]
pub struct SavedFile {
    pub path: String,
}

/// Show-once values cross to the web view by design, but never into a log or panic: their
/// `Debug` names the type and hides the contents.
macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($t), "([redacted])"))
            }
        }
    )*};
}

redacted_debug!(TotpEnrollment, BackupCodes, CreatedAgentKey);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_once_values_stay_out_of_debug() {
        let codes = BackupCodes {
            codes: vec!["abcd-efgh-jkmn".into()],
        };
        let d = format!("{codes:?}");
        assert!(!d.contains("abcd") && d.contains("redacted"), "{d}");
        let key = CreatedAgentKey {
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
        };
        assert!(!format!("{key:?}").contains("topsecret"));
    }
}
