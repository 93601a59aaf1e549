//! The Secrets page's types. A secret's value never travels in these: a read leaves it in
//! Rust (`state::OpenedSecret`) and the page asks for it only when the person clicks
//! Reveal; Copy goes from Rust straight to the clipboard.

use serde::{Deserialize, Serialize};
use specta::Type;

/// One row of the list (`GET /v1/metadata?prefix=`).
#[derive(Clone, Debug, Serialize, Type)]
pub struct SecretSummaryView {
    pub path: String,
    /// "api_key" | "password" | "url" | "certificate" | "generic"
    pub kind: String,
    /// "standard" | "sensitive" | "critical"
    pub tier: String,
    pub current_version: u32,
    pub updated_at: String,
}

/// One version, with who wrote it as a person reads it.
#[derive(Clone, Debug, Serialize, Type)]
pub struct SecretVersionView {
    pub version: u32,
    pub created_at: String,
    /// The server's reference: `user:<id>`, `agent_key:<id>` or `token:<id>`.
    pub created_by: String,
    /// "You", a teammate's name, or "agent key 01a2c3d4…".
    pub author: String,
}

/// Everything about a secret but its value (`GET /v1/metadata/{path}`), newest version
/// first.
#[derive(Clone, Debug, Serialize, Type)]
pub struct SecretDetailsView {
    pub path: String,
    pub kind: String,
    pub tier: String,
    pub current_version: u32,
    pub created_at: String,
    pub updated_at: String,
    pub versions: Vec<SecretVersionView>,
}

/// A new version to write: a new secret, a rotation, or a tier change (which the API
/// makes by writing a version). `kind`/`tier` left out keep the secret's current ones.
#[derive(Clone, Deserialize, Type)]
pub struct SecretWrite {
    pub path: String,
    pub value: String,
    pub kind: Option<String>,
    pub tier: Option<String>,
}

/// `200` from a write.
#[derive(Clone, Debug, Serialize, Type)]
pub struct SecretWrittenView {
    pub path: String,
    pub version: u32,
    pub tier: String,
    pub kind: String,
    pub updated_at: String,
}

/// The server's `403 approval_required` body: the request it opened (or found open) for
/// this operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Type)]
pub struct ApprovalNeeded {
    pub approval_id: String,
    pub required_approvals: u32,
    /// People who could still approve it; fewer than `required_approvals` means the team
    /// is too small for this request ever to be granted.
    pub eligible_approvers: Option<u32>,
    /// "pending" | "approved" (granted, waiting out the critical delay) | …
    pub status: String,
    /// "read" | "delete" | "lower_tier" | "agent_write"
    pub operation: Option<String>,
    /// When granted: the operation is allowed from this time.
    pub available_at: Option<String>,
}

/// A read: the value is now held in Rust, or the read needs an approval first.
#[derive(Clone, Debug, Serialize, Type)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReadOutcome {
    /// The value is held in the app (never here): `reveal_secret` shows it,
    /// `copy_secret` copies it, `forget_secret` drops it.
    Opened {
        path: String,
        version: u32,
        kind: String,
        tier: String,
    },
    ApprovalRequired {
        approval: ApprovalNeeded,
    },
}

#[derive(Clone, Debug, Serialize, Type)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WriteOutcome {
    Written { written: SecretWrittenView },
    ApprovalRequired { approval: ApprovalNeeded },
}

#[derive(Clone, Debug, Serialize, Type)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DeleteOutcome {
    Deleted,
    ApprovalRequired { approval: ApprovalNeeded },
}

/// `201` from `POST /v1/members/invitations`: the link went to `email` by mail.
#[derive(Clone, Debug, Serialize, Type)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub role: String,
    pub expires_at: String,
}

/// The value reaches the web view only on Reveal; never a log.
impl std::fmt::Debug for SecretWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretWrite")
            .field("path", &self.path)
            .field("value", &"[redacted]")
            .field("kind", &self.kind)
            .field("tier", &self.tier)
            .finish()
    }
}
