//! The Team page's types: members, and pending invitations (never their tokens, which
//! travel only in the mailed link).

use serde::Serialize;
use specta::Type;

/// One pending invitation (`GET /v1/members/invitations`): unused, unexpired, not revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Type)]
pub struct PendingInvitationView {
    pub id: String,
    pub email: String,
    /// "owner" | "admin" | "approver" | "member"
    pub role: String,
    /// Who sent it, as a person reads it: their name, else their email.
    pub invited_by: String,
    pub invited_by_id: String,
    pub created_at: String,
    pub expires_at: String,
}

/// A member of the tenant (`GET /v1/members`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Type)]
pub struct MemberView {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    /// "owner" | "admin" | "approver" | "member"
    pub role: String,
    pub mfa_enabled: bool,
    pub created_at: String,
}
